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
#define MEMP_MEM_MALLOC		0
#define MEM_ALIGNMENT		8
#define MEMP_NUM_PBUF		64
#define MEMP_NUM_RAW_PCB	8
#define MEMP_NUM_UDP_PCB	32
#define MEMP_NUM_TCP_PCB	512
#define MEMP_NUM_TCP_PCB_LISTEN 32
#define MEMP_NUM_TCP_SEG	4096
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
#define TCP_MSS	 1460
/* Without window scaling the window tops out just below 64 KiB. */
#define TCP_WND			   (44 * TCP_MSS)
#define TCP_SND_BUF		   (44 * TCP_MSS)
#define TCP_SND_QUEUELEN	   (4 * TCP_SND_BUF / TCP_MSS)
#define TCP_SNDLOWAT		   (TCP_SND_BUF / 2)
#define TCP_SNDQUEUELOWAT	   (TCP_SND_QUEUELEN / 2)
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
#define LWIP_CHECKSUM_ON_COPY 1

/* ----------------------------------------------------------- statistics */
#define LWIP_STATS	      0
#define LWIP_STATS_DISPLAY    0
#define LWIP_DEBUG_TIMERNAMES 0

#endif
