/* The zone-file reader on any text: it loads or refuses with a message;
 * a loaded zone finds each of its names, formats them, and answers a
 * query for every name and type it holds with a response of the right
 * size and ID. */
#include "answer.h"
#include "fuzz.h"
#include "zone.h"

static uint8_t out[DNS_RESPONSE_MAX];

static void ask(struct dns_server *s, const uint8_t *name, size_t len,
		uint16_t type)
{
	uint8_t q[12 + DNS_NAME_MAX + 4] = {0xbe, 0xef, 0x01, 0x00, 0, 1};

	memcpy(q + 12, name, len);
	q[12 + len] = (uint8_t)(type >> 8);
	q[13 + len] = (uint8_t)type;
	q[14 + len] = 0;
	q[15 + len] = 1;
	size_t n = dns_answer(s, DNS_UDP, q, 16 + len, out, sizeof(out));
	FUZZ_CHECK(n >= 12 && n <= sizeof(out));
	FUZZ_CHECK(out[0] == 0xbe && out[1] == 0xef && (out[2] & 0x80));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dns_zone z;
	struct dns_server s;
	char err[256], text[DNS_NAME_MAX * 4 + 1];

	/* The reader's own copy, so ASan sees any read past the end. */
	char *buf = malloc(size + 1);
	FUZZ_CHECK(buf != NULL);
	memcpy(buf, data, size);
	memset(&z, 0, sizeof(z));
	err[0] = '\0';
	if (dns_zone_load(&z, buf, size, "example.com", err, sizeof(err)) < 0) {
		FUZZ_CHECK(err[0] != '\0');
		free(buf);
		return 0;
	}
	memset(&s, 0, sizeof(s));
	s.zones = &z;
	s.nzones = 1;
	FUZZ_CHECK(z.nnodes > 0 && z.soa < z.nrrs);
	for (size_t i = 0; i < z.nnodes; i++) {
		const struct dns_node *n = &z.nodes[i];
		const uint8_t *name = z.data + n->name;
		FUZZ_CHECK(dns_name_len(name, n->namelen) == n->namelen);
		FUZZ_CHECK(dns_zone_find(&z, name, n->namelen) == n);
		FUZZ_CHECK(dns_name_in(name, n->namelen, z.apex, z.apexlen));
		dns_name_format(name, n->namelen, text, sizeof(text));
		if (i > 0)
			FUZZ_CHECK(dns_name_cmp(z.data + z.nodes[i - 1].name,
						z.nodes[i - 1].namelen, name,
						n->namelen) < 0);
		for (uint32_t r = n->rr; r < n->rr + n->nrr; r++)
			ask(&s, name, n->namelen, z.rrs[r].type);
		ask(&s, name, n->namelen, DNS_T_ANY);
	}
	dns_zone_free(&z);
	free(buf);
	return 0;
}
