/* lwIP configuration for Duet: the same file on every platform.
 *
 * NO_SYS=1: Duet is single-threaded and run-to-completion, so lwIP runs
 * with no threads, semaphores or mailboxes and only its raw API; the port
 * (net/lwip/port.c) drives its timeouts from a core timer.
 *
 * Memory: fixed-size objects (PCBs, segments, the receive pbuf pool) come
 * from lwIP's static pools, so receiving never calls malloc and a flood
 * cannot grow them. Variable-size allocations (the copies tcp_write makes,
 * reassembly, ARP/ND queues) go to the C library's malloc
 * (MEM_LIBC_MALLOC) rather than lwIP's own heap: both platforms have a
 * malloc (glibc; the Xen platform's page-backed allocator), and a separate
 * static heap would have to be sized for the worst case of every connection
 * filling its send buffer at once (hundreds of connections x TCP_SND_BUF)
 * while sitting idle otherwise. Each connection is still bounded by
 * TCP_SND_BUF and TCP_SND_QUEUELEN, and the sanitizers see every block.
 */
#ifndef DUET_LWIPOPTS_H
#define DUET_LWIPOPTS_H

#define NO_SYS		     1
#define LWIP_SOCKET	     0
#define LWIP_NETCONN	     0
#define SYS_LIGHTWEIGHT_PROT 0
#define LWIP_TIMERS	     1

/* ---------------------------------------------------------------- memory */
#define MEM_LIBC_MALLOC		1
#ifdef DUET_LWIP_BULK
/* 64 KiB segments: malloc with a cache of their blocks (net/lwip/mem.c). */
#include <stddef.h>
void *duet__lwip_malloc(size_t size);
void *duet__lwip_calloc(size_t count, size_t size);
void duet__lwip_free(void *p);
#define mem_clib_malloc duet__lwip_malloc
#define mem_clib_calloc duet__lwip_calloc
#define mem_clib_free	duet__lwip_free
#endif
#define MEMP_MEM_MALLOC		0
#define MEM_ALIGNMENT		8
#define MEMP_NUM_PBUF		64
#define MEMP_NUM_RAW_PCB	8
#define MEMP_NUM_UDP_PCB	32
#define MEMP_NUM_TCP_PCB	512
#define MEMP_NUM_TCP_PCB_LISTEN 32
/* Segments, shared by every connection: with DUET_LWIP_BULK's send buffer
 * a connection on a 1500-byte link queues up to 180 full ones, and 64
 * such (a benchmark's load) must not run the pool dry: a connection whose
 * tcp_write finds no segment while it has nothing in flight hears of no
 * ACK that would tell it to try again. 16384 x ~40 bytes; 4096 for the
 * smaller buffers otherwise (as many connections x 44). */
#ifdef DUET_LWIP_BULK
#define MEMP_NUM_TCP_SEG 16384
#else
#define MEMP_NUM_TCP_SEG 4096
#endif
#define MEMP_NUM_REASSDATA	16
#define MEMP_NUM_FRAG_PBUF	64
#define MEMP_NUM_ARP_QUEUE	64
#define MEMP_NUM_ND6_QUEUE	64
#define MEMP_NUM_SYS_TIMEOUT	(LWIP_NUM_SYS_TIMEOUT_INTERNAL + 4)
/* Received frames: one pool buffer holds a full Ethernet frame (1500 MTU +
 * 14 header + a VLAN tag, rounded up); larger MTUs get chains. */
#define PBUF_POOL_SIZE	  1024
#define PBUF_POOL_BUFSIZE 1536
#define ETH_PAD_SIZE	  0

/* ------------------------------------------------------------------ link */
#define LWIP_ARP		       1
#define ARP_TABLE_SIZE		       64
#define ARP_QUEUEING		       1
#define ETHARP_SUPPORT_STATIC_ENTRIES  0
#define LWIP_ETHERNET		       1
#define LWIP_NETIF_STATUS_CALLBACK     0
#define LWIP_NETIF_EXT_STATUS_CALLBACK 1
#define LWIP_NETIF_LINK_CALLBACK       0
/* Traffic to the stack's own address goes to the wire, as it does without
 * a loopback device; a Duet image talks to others, not to itself. */
#define LWIP_NETIF_LOOPBACK 0
#define LWIP_HAVE_LOOPIF    0
#define LWIP_SINGLE_NETIF   0
#define LWIP_NETIF_HOSTNAME 0

/* ------------------------------------------------------------------ IPv4 */
#define LWIP_IPV4		 1
#define IP_FORWARD		 0
#define IP_REASSEMBLY		 1
#define IP_FRAG			 1
#define IP_REASS_MAX_PBUFS	 256
#define LWIP_ICMP		 1
#define LWIP_BROADCAST_PING	 0
#define LWIP_DHCP		 1
#define DHCP_DOES_ARP_CHECK	 0
#define LWIP_DHCP_DOES_ACD_CHECK 0
#define LWIP_AUTOIP		 0
#define LWIP_IGMP		 0
#define LWIP_DNS		 0
/* Source-based route selection, so that a packet whose source address
 * belongs to a netif leaves through it (net/lwip/hooks.h). */
#define LWIP_HOOK_FILENAME		   "hooks.h"
#define LWIP_HOOK_IP4_ROUTE_SRC(src, dest) duet__lwip_route_src(src, dest)
#define LWIP_HOOK_TCP_INPACKET_PCB(pcb, hdr, optlen, opt1len, opt2, p) \
	duet__lwip_tcp_inpkt(pcb, hdr, optlen, opt1len, opt2, p)

/* ------------------------------------------------------------------ IPv6 */
#define LWIP_IPV6		      1
#define LWIP_IPV6_NUM_ADDRESSES	      5 /* link-local, 2 static, 2 SLAAC */
#define LWIP_IPV6_AUTOCONFIG	      1
#define LWIP_IPV6_SEND_ROUTER_SOLICIT 1
#define LWIP_IPV6_DUP_DETECT_ATTEMPTS 1
#define LWIP_IPV6_MLD		      1
#define LWIP_IPV6_FRAG		      1
#define LWIP_IPV6_REASS		      1
/* 64-bit pointers do not fit in the fragment header lwIP reuses. */
#define IPV6_FRAG_COPYHEADER	  1
#define LWIP_IPV6_DHCP6		  0
#define LWIP_ICMP6		  1
#define LWIP_ND6_QUEUEING	  1
#define LWIP_ND6_NUM_NEIGHBORS	  32
#define LWIP_ND6_NUM_DESTINATIONS 64
#define LWIP_IPV6_SCOPES	  1

/* ------------------------------------------------------------- transport */
#define LWIP_RAW 1 /* ICMP echo requests from tests and tools */
#define LWIP_UDP 1
#define LWIP_TCP 1
/* Windows and segments. Two sizes, chosen by the platform (not by name:
 * the platform's build sets DUET_LWIP_BULK):
 *
 * DUET_LWIP_BULK (POSIX: a process with the host's memory, on a tap whose
 * MTU can be 65517, see DUET_ETH_MTU_MAX). Point to point with the host,
 * both sides then send 64 KiB segments: TCP_MSS is as large as a frame
 * with 16-bit pbuf lengths allows (MTU 65517 - 40 bytes of IPv4 and TCP
 * headers; IPv6 takes 20 more off through the netif's MTU). The send
 * buffer holds four such segments, so a 64 KiB response goes out in one
 * tcp_write and the next is queued while the first is in flight; the
 * receive window matches (scale 3: 0xffff << 3 is 512 KiB at most). 256
 * KiB a connection is only malloc'd while it is in use, and the receive
 * side is bounded by the pbuf pool below (1024 x 1536 bytes).
 *
 * Otherwise (Xen: guests of 4 to 32 MiB serving hundreds of connections,
 * over a 1500-byte netfront): Ethernet segments and windows just under
 * 64 KiB, as before, so the worst case of every connection filling its
 * send buffer stays what it was.
 *
 * Window scaling is on for both: it costs nothing, and lets lwIP use a
 * peer's window beyond 64 KiB (Linux offers megabytes), without which one
 * 64 KiB segment would fill it. */
#define LWIP_WND_SCALE 1
#define DUET_LWIP_ETH_MSS 1460 /* the segments of a 1500-byte MTU */
#ifdef DUET_LWIP_BULK
#define TCP_MSS	      (65517 - 40)
#define TCP_RCV_SCALE 3
#define TCP_WND	      (256 * 1024)
#define TCP_SND_BUF   (256 * 1024)
#else
#define TCP_MSS	      DUET_LWIP_ETH_MSS
#define TCP_RCV_SCALE 0
#define TCP_WND	      (44 * TCP_MSS)
#define TCP_SND_BUF   (44 * TCP_MSS)
#endif
/* Counted in Ethernet segments on every platform: a netif's MTU can be
 * 1500 whatever TCP_MSS allows (a vwire, a tap the host keeps at 1500). */
#define TCP_SND_QUEUELEN  (4 * TCP_SND_BUF / DUET_LWIP_ETH_MSS)
#define TCP_SNDQUEUELOWAT (TCP_SND_QUEUELEN / 2)
/* Only lwIP's netconn API reads it; Duet's TCP signals writable itself. */
#define TCP_SNDLOWAT (TCP_SND_BUF / 2)
/* lwIP's checks assume TCP_SNDLOWAT and the send buffer in 16 bits and
 * would refuse a 64 KiB MSS; the ones that still hold are below. */
#define LWIP_DISABLE_TCP_SANITY_CHECKS 1
/* Room a segment's pbuf keeps for the writes that follow: one Ethernet
 * segment, not lwIP's default of TCP_MSS (a 64 KiB allocation behind every
 * small response); longer appends chain pbufs, which go out as one iovec. */
#define TCP_OVERSIZE		   DUET_LWIP_ETH_MSS
#define TCP_QUEUE_OOSEQ		   1
#define TCP_OOSEQ_MAX_PBUFS	   64
#define TCP_LISTEN_BACKLOG	   1
#define TCP_DEFAULT_LISTEN_BACKLOG 128
#define LWIP_TCP_TIMESTAMPS	   0
#define LWIP_TCP_KEEPALIVE	   1
#define TCP_MAXRTX		   12
#define TCP_SYNMAXRTX		   6
#define LWIP_CALLBACK_API	   1
#define LWIP_EVENT_API		   0
#if TCP_SND_QUEUELEN > MEMP_NUM_TCP_SEG || TCP_SND_QUEUELEN > 0xffff
#error "TCP_SND_QUEUELEN: more segments than the pool or a u16 holds"
#endif
#if TCP_SND_BUF < 2 * TCP_MSS
#error "TCP_SND_BUF: less than two segments"
#endif
#if TCP_WND > PBUF_POOL_SIZE * (PBUF_POOL_BUFSIZE - 54)
#error "TCP_WND: more than the receive pool holds"
#endif

/* ------------------------------------------------------------ checksums */
#define CHECKSUM_GEN_IP	      1
#define CHECKSUM_GEN_UDP      1
#define CHECKSUM_GEN_TCP      1
#define CHECKSUM_GEN_ICMP     1
#define CHECKSUM_GEN_ICMP6    1
#define CHECKSUM_CHECK_IP     1
#define CHECKSUM_CHECK_UDP    1
#define CHECKSUM_CHECK_TCP    1
#define CHECKSUM_CHECK_ICMP   1
#define CHECKSUM_CHECK_ICMP6  1
/* Per netif: a device that completes TCP checksums (a tap with vnet
 * headers) gets none from lwIP, and frames it vouches for are not checked
 * (net/lwip/netif.c); every other netif checks and generates all. */
#define LWIP_CHECKSUM_CTRL_PER_NETIF 1
/* Summing while copying in tcp_write saves a pass where lwIP generates TCP
 * checksums; where the platform's netifs offload them (DUET_LWIP_BULK's
 * taps) the sum would be thrown away, and the copy alone is cheaper. */
#ifdef DUET_LWIP_BULK
#define LWIP_CHECKSUM_ON_COPY 0
#else
#define LWIP_CHECKSUM_ON_COPY 1
#endif

/* ----------------------------------------------------------- statistics */
#define LWIP_STATS	      0
#define LWIP_STATS_DISPLAY    0
#define LWIP_DEBUG_TIMERNAMES 0

#endif
