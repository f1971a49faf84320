/* The xenstore wire protocol (see xs_proto.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "xs_proto.h"

int duet__xs_encode(void *out, size_t cap, uint32_t type, uint32_t req_id,
		    uint32_t tx_id, const char *const *strs, size_t nstrs,
		    const void *data, size_t data_len)
{
	struct xsd_sockmsg hdr = {
	    .type = type, .req_id = req_id, .tx_id = tx_id};
	size_t len = data_len;
	char *p = out;

	for (size_t i = 0; i < nstrs; i++) {
		len += strlen(strs[i]) + 1;
		if (len > XENSTORE_PAYLOAD_MAX)
			return -EMSGSIZE;
	}
	if (len > XENSTORE_PAYLOAD_MAX || sizeof(hdr) + len > cap)
		return -EMSGSIZE;
	hdr.len = (uint32_t)len;
	memcpy(p, &hdr, sizeof(hdr));
	p += sizeof(hdr);
	for (size_t i = 0; i < nstrs; i++) {
		size_t n = strlen(strs[i]) + 1;
		memcpy(p, strs[i], n);
		p += n;
	}
	if (data_len > 0)
		memcpy(p, data, data_len);
	return (int)(sizeof(hdr) + len);
}

void duet__xs_rx_reset(struct duet__xs_rx *rx)
{
	rx->have = 0;
	rx->failed = false;
}

static bool rx_complete(const struct duet__xs_rx *rx)
{
	return rx->have >= sizeof(rx->msg.hdr) &&
	       rx->have == sizeof(rx->msg.hdr) + rx->msg.hdr.len;
}

int duet__xs_rx_feed(struct duet__xs_rx *rx, const void *data, size_t len,
		     size_t *used)
{
	const char *in = data;
	size_t hdr_size = sizeof(rx->msg.hdr);

	*used = 0;
	if (rx->failed)
		return -EMSGSIZE;
	if (rx_complete(rx))
		return 1;
	if (rx->have < hdr_size) {
		size_t n = hdr_size - rx->have;
		if (n > len)
			n = len;
		memcpy((char *)&rx->msg.hdr + rx->have, in, n);
		rx->have += n;
		*used += n;
		if (rx->have < hdr_size)
			return 0;
		if (rx->msg.hdr.len > XENSTORE_PAYLOAD_MAX) {
			rx->failed = true;
			return -EMSGSIZE;
		}
	}
	size_t body_have = rx->have - hdr_size;
	size_t n = rx->msg.hdr.len - body_have;
	if (n > len - *used)
		n = len - *used;
	memcpy(rx->msg.body + body_have, in + *used, n);
	rx->have += n;
	*used += n;
	if (!rx_complete(rx))
		return 0;
	rx->msg.body[rx->msg.hdr.len] = '\0';
	return 1;
}

void duet__xs_rx_next(struct duet__xs_rx *rx)
{
	if (rx_complete(rx))
		rx->have = 0;
}

int duet__xs_errno(const char *name)
{
	for (size_t i = 0; i < sizeof(xsd_errors) / sizeof(xsd_errors[0]); i++)
		if (strcmp(name, xsd_errors[i].errstring) == 0)
			return xsd_errors[i].errnum == 0
				   ? -EIO
				   : -xsd_errors[i].errnum;
	return -EIO;
}

int duet__xs_reply_status(const struct duet__xs_msg *m, uint32_t type)
{
	if (m->hdr.type == XS_ERROR)
		return duet__xs_errno(m->body);
	return m->hdr.type == type ? 0 : -EPROTO;
}

int duet__xs_copy_value(const struct duet__xs_msg *m, char *buf, size_t size)
{
	size_t len = m->hdr.len;

	if (len + 1 > size)
		return -ERANGE;
	memcpy(buf, m->body, len);
	buf[len] = '\0';
	return (int)len;
}

int duet__xs_split(const struct duet__xs_msg *m, const char **out, size_t max)
{
	size_t len = m->hdr.len, count = 0;

	if (len > 0 && m->body[len - 1] != '\0')
		return -EPROTO;
	for (size_t at = 0; at < len;) {
		if (count == max)
			return -ERANGE;
		out[count++] = m->body + at;
		at += strlen(m->body + at) + 1;
	}
	return (int)count;
}

int duet__xs_tx_id(const struct duet__xs_msg *m, uint32_t *out)
{
	uint64_t id = 0;
	const char *p = m->body;

	if (*p == '\0')
		return -EPROTO;
	for (; *p >= '0' && *p <= '9'; p++) {
		id = id * 10 + (uint64_t)(*p - '0');
		if (id > UINT32_MAX)
			return -EPROTO;
	}
	if (*p != '\0' || id == 0)
		return -EPROTO;
	*out = (uint32_t)id;
	return 0;
}

uint32_t duet__xs_next_req_id(uint32_t *counter)
{
	if (++*counter == 0)
		++*counter;
	return *counter;
}

int duet__xs_events_push(struct duet__xs_events *e,
			 const struct duet__xs_msg *m)
{
	const char *parts[2];

	if (duet__xs_split(m, parts, 2) != 2 ||
	    strlen(parts[0]) >= DUET__XS_EVENT_PATH_MAX ||
	    strlen(parts[1]) >= DUET__XS_TOKEN_MAX)
		return -EPROTO;
	for (unsigned i = 0; i < e->len; i++)
		if (strcmp(e->q[i].path, parts[0]) == 0 &&
		    strcmp(e->q[i].token, parts[1]) == 0)
			return 0;
	if (e->len == DUET__XS_EVENTS) {
		e->overflow = true;
		return -ENOSPC;
	}
	strcpy(e->q[e->len].path, parts[0]);
	strcpy(e->q[e->len].token, parts[1]);
	e->len++;
	return 1;
}

int duet__xs_events_pop(struct duet__xs_events *e, char *path, size_t psize,
			char *token, size_t tsize)
{
	if (e->len == 0) {
		if (!e->overflow)
			return 0;
		e->overflow = false;
		path[0] = token[0] = '\0';
		return 2;
	}
	snprintf(path, psize, "%s", e->q[0].path);
	snprintf(token, tsize, "%s", e->q[0].token);
	memmove(&e->q[0], &e->q[1], --e->len * sizeof(e->q[0]));
	return 1;
}
