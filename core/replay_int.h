/* The recorder's and the replayer's shared state, and the hooks the core's
 * own device wrappers call (netif.c, block.c). */
#ifndef DUET_REPLAY_INT_H
#define DUET_REPLAY_INT_H

#include <duet/block_driver.h>
#include <duet/crc32c.h>
#include <duet/list.h>
#include <duet/netif_driver.h>
#include <duet/replay.h>

#include "replay_log.h"

#define RR_BUF_SIZE (64u << 10)
#define RR_RESERVE 64 /* room kept for FULL */
#define RR_DEVICES 256

struct duet_rr {
	bool replaying;
	bool stopped; /* recording: the log is full or the sink failed */
	uint64_t index; /* records written or taken */
	duet_time_t last_mono, last_wall;
	uint8_t devices;	     /* ids handed out */
	uint32_t seq[RR_DEVICES]; /* next block request, per device */
	struct duet_device *dev[RR_DEVICES];

	/* recording */
	duet_rr_sink sink;
	void *sink_arg;
	uint64_t max, written; /* written: handed to the sink */
	uint32_t crc;
	uint8_t *buf;
	size_t buf_len;

	/* replaying */
	struct rr_reader rd;
	struct rr_record next;
	int peeked; /* 1: next holds the record after the last taken;
		       0: the log ended; -1: not read yet */
	struct duet_loop *loop;
	duet_rr_stop stop;
	void *stop_arg;
	duet_rr_signal_cb signal;
	void *signal_arg;
	struct duet_list pending; /* block requests submitted, not done */
};

/* The loop's recorder, if its system has one (a bare loop has none). */
struct duet_rr *duet__rr_of(const struct duet_loop *loop);

/* Recording. */
bool duet__rr_begin(struct duet_rr *rr, uint8_t kind, uint8_t dev, size_t len);
void duet__rr_data(struct duet_rr *rr, const void *p, size_t n);
void duet__rr_end_record(struct duet_rr *rr);
void duet__rr_put(struct duet_rr *rr, uint8_t kind, uint8_t dev,
		  const void *p, size_t n);

/* Replaying: the next record, which must be of `kind` (else the replay
 * stops and `got` says what the run did instead). */
const struct rr_record *duet__rr_peek(struct duet_rr *rr);
const struct rr_record *duet__rr_take(struct duet_rr *rr, uint8_t kind,
				      const char *got_fmt, ...)
	__attribute__((format(printf, 3, 4)));
_Noreturn void duet__rr_diverge(struct duet_rr *rr, const char *got_fmt, ...)
	__attribute__((format(printf, 2, 3)));
void duet__rr_bad_payload(struct duet_rr *rr, const struct rr_cursor *c);
/* Delivers the events that come next (REPLAY.md: event points). */
void duet__rr_events(struct duet_rr *rr, struct duet_loop *loop);
/* Creates the replay device a DEVICE record describes. */
void duet__rr_create_device(struct duet_rr *rr, struct duet_loop *loop,
			    const struct rr_record *rec);
void duet__rr_deliver_done(struct duet_rr *rr, const struct rr_record *rec);
/* A replay block device closes: its remaining recorded completions. */
void duet__rr_block_close(struct duet_rr *rr, struct duet_block *dev);

/* The device wrappers' hooks: a device registered, a frame received (one
 * the device vouched for: csum_valid), the link or the offloads changed, a
 * frame to send (with its partial checksum's place when csum), a block request to submit, one done. */
void duet__rr_device(struct duet_device *dev);
void duet__rr_rx(struct duet_netif *netif, const void *frame, size_t len,
		 bool csum_valid);
void duet__rr_link(struct duet_netif *netif, bool up);
void duet__rr_offloads(struct duet_netif *netif, unsigned offloads);
int duet__rr_transmit(struct duet_netif *netif, const struct duet_iovec *iov,
		      unsigned iovcnt, size_t len, bool csum,
		      unsigned csum_start, unsigned csum_offset);
int duet__rr_submit(struct duet_block *dev, struct duet_block_req *req);
void duet__rr_done(struct duet_block_req *req, int status);

#endif
