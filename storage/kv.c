/* The key-value wrappers of duet/kv.h: check, queue, then hand requests to
 * the store from the loop, so no store ever completes inside a caller's
 * submit call and stores may answer from memory at once. */
#include <assert.h>
#include <string.h>

#include <duet/error.h>
#include <duet/kv.h>

static void dispatch(struct duet_cq *cq, struct duet_list *item, void *arg)
{
	struct duet_kv *kv = arg;
	struct duet_kv_req *req = duet_container_of(item, struct duet_kv_req, link);
	(void)cq;

	if (req->op == DUET_KV_SYNC && kv->read_only)
		duet_kv_complete(req, 0);
	else
		kv->ops->submit(kv, req);
}

void duet_kv_init(struct duet_kv *kv, struct duet_loop *loop, const char *kind,
		  const struct duet_kv_ops *ops, bool read_only)
{
	assert(ops != NULL && ops->submit != NULL);
	kv->ops = ops;
	kv->loop = loop;
	kv->kind = kind;
	kv->read_only = read_only;
	kv->io_size = 0;
	kv->in_flight = 0;
	duet_cq_init(loop, &kv->queue, dispatch, kv);
}

void duet_kv_complete(struct duet_kv_req *req, int status)
{
	struct duet_kv *kv = req->kv;

	assert(req->in_flight && "kv request completed twice");
	assert(status <= 0 || req->op == DUET_KV_GET);
	req->in_flight = false;
	kv->in_flight--;
	req->cb(req, status, req->arg);
}

static int check_key(const char *key, bool empty_ok, size_t *len)
{
	if (key == NULL)
		return -EINVAL;
	*len = strnlen(key, DUET_KV_KEY_MAX + 1);
	if (*len > DUET_KV_KEY_MAX || (*len == 0 && !empty_ok))
		return -EINVAL;
	return 0;
}

static int submit(struct duet_kv *kv, struct duet_kv_req *req,
		  enum duet_kv_op op, const char *key, duet_kv_cb cb, void *arg)
{
	size_t len = 0;
	int r;

	assert(kv != NULL && req != NULL && cb != NULL);
	if (op == DUET_KV_SET || op == DUET_KV_DELETE) {
		if (kv->read_only)
			return -EROFS;
	}
	if (op != DUET_KV_SYNC) {
		r = check_key(key, op == DUET_KV_LIST, &len);
		if (r < 0)
			return r;
	}
	req->op = op;
	req->key = key;
	req->key_len = len;
	req->cb = cb;
	req->arg = arg;
	req->kv = kv;
	memset(&req->stat, 0, sizeof(req->stat));
	req->in_flight = true;
	kv->in_flight++;
	duet_list_init(&req->link);
	duet_cq_push(&kv->queue, &req->link);
	return 0;
}

int duet_kv_get(struct duet_kv *kv, struct duet_kv_req *req, const char *key,
		uint64_t offset, void *buf, size_t len, duet_kv_cb cb,
		void *arg)
{
	if (buf == NULL && len > 0)
		return -EINVAL;
	/* The count comes back as an int status. */
	if (len > INT32_MAX)
		len = INT32_MAX;
	req->buf = buf;
	req->offset = offset;
	req->len = len;
	return submit(kv, req, DUET_KV_GET, key, cb, arg);
}

int duet_kv_stat(struct duet_kv *kv, struct duet_kv_req *req, const char *key,
		 duet_kv_cb cb, void *arg)
{
	return submit(kv, req, DUET_KV_STAT, key, cb, arg);
}

int duet_kv_list(struct duet_kv *kv, struct duet_kv_req *req,
		 const char *prefix, duet_kv_entry_cb entry, duet_kv_cb cb,
		 void *arg)
{
	if (entry == NULL)
		return -EINVAL;
	req->entry = entry;
	return submit(kv, req, DUET_KV_LIST, prefix, cb, arg);
}

int duet_kv_set(struct duet_kv *kv, struct duet_kv_req *req, const char *key,
		const void *value, size_t len, duet_kv_cb cb, void *arg)
{
	if (value == NULL && len > 0)
		return -EINVAL;
	req->value = value;
	req->len = len;
	return submit(kv, req, DUET_KV_SET, key, cb, arg);
}

int duet_kv_delete(struct duet_kv *kv, struct duet_kv_req *req, const char *key,
		   duet_kv_cb cb, void *arg)
{
	return submit(kv, req, DUET_KV_DELETE, key, cb, arg);
}

int duet_kv_sync(struct duet_kv *kv, struct duet_kv_req *req, duet_kv_cb cb,
		 void *arg)
{
	return submit(kv, req, DUET_KV_SYNC, NULL, cb, arg);
}

bool duet_kv_read_only(const struct duet_kv *kv)
{
	return kv->read_only;
}

const char *duet_kv_kind(const struct duet_kv *kv)
{
	return kv->kind;
}

uint32_t duet_kv_io_size(const struct duet_kv *kv)
{
	return kv->io_size;
}

unsigned duet_kv_in_flight(const struct duet_kv *kv)
{
	return kv->in_flight;
}

int duet_kv_close(struct duet_kv *kv)
{
	if (kv->in_flight > 0)
		return -EBUSY;
	duet_cq_cancel(&kv->queue);
	if (kv->ops->close != NULL)
		kv->ops->close(kv);
	return 0;
}
