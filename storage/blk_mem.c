/* An in-memory block device (see duet/blk_mem.h). */
#include <stdlib.h>
#include <string.h>

#include <duet/blk_mem.h>
#include <duet/block_driver.h>
#include <duet/error.h>

struct duet_blk_mem {
	struct duet_block blk;
	uint8_t *data;
	uint64_t size;
	struct duet_blk_mem_stats stats;
};

static int mem_submit(struct duet_block *blk, struct duet_block_req *req)
{
	struct duet_blk_mem *m =
	    duet_container_of(blk, struct duet_blk_mem, blk);
	size_t off = (size_t)(req->sector * blk->info.sector_size);
	size_t len = (size_t)(req->count * blk->info.sector_size);

	switch (req->op) {
	case DUET_BLOCK_READ:
		memcpy(req->buf, m->data + off, len);
		m->stats.reads++;
		m->stats.bytes_read += len;
		break;
	case DUET_BLOCK_WRITE:
	case DUET_BLOCK_WRITE_FUA: /* not offered (info.fua): the core splits */
		memcpy(m->data + off, req->buf, len);
		m->stats.writes++;
		m->stats.bytes_written += len;
		break;
	case DUET_BLOCK_FLUSH: m->stats.flushes++; break;
	}
	duet_block_complete(req, 0);
	return 0;
}

static void mem_close(struct duet_block *blk)
{
	struct duet_blk_mem *m =
	    duet_container_of(blk, struct duet_blk_mem, blk);

	free(m->data);
	free(m);
}

static const struct duet_block_ops mem_ops = {
    .submit = mem_submit,
    .close = mem_close,
};

int duet_blk_mem_create(struct duet_loop *loop, const char *name,
			uint32_t sector_size, uint64_t sector_count,
			bool read_only, struct duet_blk_mem **out)
{
	struct duet_block_info info = {
	    .sector_size = sector_size,
	    .sector_count = sector_count,
	    .read_only = read_only,
	    /* So flushes reach the driver and are counted. */
	    .volatile_cache = true,
	};

	if (sector_count == 0 || sector_size == 0 ||
	    sector_count > SIZE_MAX / sector_size)
		return -EINVAL;
	struct duet_blk_mem *m = calloc(1, sizeof(*m));
	if (m == NULL)
		return -ENOMEM;
	m->size = sector_count * sector_size;
	m->data = calloc(1, (size_t)m->size);
	if (m->data == NULL) {
		free(m);
		return -ENOMEM;
	}
	int r = duet_block_register(loop, &m->blk, name, &mem_ops, &info);
	if (r < 0) {
		free(m->data);
		free(m);
		return r;
	}
	*out = m;
	return 0;
}

struct duet_block *duet_blk_mem_block(struct duet_blk_mem *m)
{
	return &m->blk;
}

uint8_t *duet_blk_mem_data(struct duet_blk_mem *m)
{
	return m->data;
}

uint64_t duet_blk_mem_size(const struct duet_blk_mem *m)
{
	return m->size;
}

void duet_blk_mem_get_stats(const struct duet_blk_mem *m,
			    struct duet_blk_mem_stats *out)
{
	*out = m->stats;
}
