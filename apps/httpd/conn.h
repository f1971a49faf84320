/* conn.h — httpd's connections and their response queues (internal to
 * server.c and stream.c).
 *
 * A response's body comes from memory (the file's bytes, or an error text)
 * or, for a file of a source that reads (files.h), from the connection's
 * stream: a buffer of two HTTPD_CHUNK halves. One half is sent while the
 * source reads the next chunk into the other, so a file of any size needs
 * 2 * HTTPD_CHUNK bytes of memory, and only while it is being sent. Only
 * the response at the head of the queue streams; its head is sent only once
 * its first chunk is read, so a read that fails before any byte went out
 * can still be answered with 500.
 */
#ifndef HTTPD_CONN_H
#define HTTPD_CONN_H

#include "server.h"

/* A connection closed while a source read was in flight is ended on the
 * skeleton (duet_server_conn_ended) but its record, with the read's
 * buffer, is held until the read completes (duet_server_conn_hold). */
enum conn_state { CONN_OPEN, CONN_LINGER };

struct httpd_resp {
	const uint8_t *body;	       /* in memory; NULL when streamed */
	const struct httpd_file *file; /* streamed from file_off on */
	struct httpd_file file_buf;    /* a source's lookup may fill it */
	uint64_t file_off;
	size_t body_len;
	size_t off;		/* bytes of head + body already sent */
	const char *connection; /* the Connection header, for a late 500 */
	unsigned head_len;
	char head[HTTPD_HEAD_CAP];
};

struct httpd_stream {
	uint8_t *buf;	       /* 2 * HTTPD_CHUNK, or NULL when not streaming */
	uint64_t next, end;    /* file offsets: the next read, past the body */
	size_t len[2], pos[2]; /* each half: bytes read into it, sent of it */
	unsigned fill, send;   /* the half the next read fills / sends from */
	size_t want;	       /* bytes the read in flight asked for */
	bool started;	       /* set up for the head response */
	bool reading;
	struct httpd_read rd;
};

struct httpd_conn {
	struct duet_server_conn sc; /* sc.tcp, sc.slot: the skeleton's */
	struct httpd *srv;
	struct duet_timer timer;
	enum conn_state state;
	bool paused;
	bool peer_eof;
	bool want_close; /* close once the queue is sent */
	/* Memory while a request or response is in flight only: the receive
	 * buffer and the response queue exist while the connection has bytes
	 * buffered, a body to skip or responses queued (conn_trim). */
	char *in;
	size_t in_len, in_cap;
	uint64_t body_skip; /* bytes of an accepted body still to discard */
	bool in_chunked;    /* discarding a chunked body through chunked */
	struct http_chunked chunked;
	unsigned q_head, q_len;
	struct httpd_resp *q; /* HTTPD_QUEUE of them */
	struct httpd_stream stream;
	char peer[DUET_SOCKADDR_STRLEN];
};

/* server.c */
void httpd_conn_progress(struct httpd_conn *c);
void httpd_conn_abort(struct httpd_conn *c);
/* Turns the head response, none of it sent, into an error response. */
void httpd_resp_error(struct httpd_conn *c, struct httpd_resp *r, int status);

/* stream.c */
/* Sets up the stream of the head response r (r->file != NULL) and keeps
 * its reads going. Returns the bytes ready to send from *p (0: wait for the
 * read's callback), or -1 if the connection was reset. A read that failed
 * before any of r was sent leaves r an error response (r->file NULL). */
long httpd_stream_ready(struct httpd_conn *c, struct httpd_resp *r,
			const uint8_t **p);
/* Copies up to cap ready bytes (across both halves) into buf. */
size_t httpd_stream_copy(const struct httpd_conn *c, char *buf, size_t cap);
/* n body bytes of the head response were sent. */
void httpd_stream_consume(struct httpd_conn *c, size_t n);
/* The head response's body is all sent. */
void httpd_stream_end(struct httpd_conn *c);
/* The connection goes idle or away: gives back the buffer unless a read
 * still needs it. */
void httpd_stream_release(struct httpd_conn *c);

#endif
