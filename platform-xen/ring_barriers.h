/* ring_barriers.h — the barriers Xen's ring macros (xen/io/ring.h) expect,
 * for the guest and for the host tests of the ring code alike. x86 orders
 * stores and loads already; these keep the compiler from reordering. */
#ifndef DUET_XEN_RING_BARRIERS_H
#define DUET_XEN_RING_BARRIERS_H

#ifndef xen_mb
#define xen_mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#endif
#ifndef xen_rmb
#define xen_rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#endif
#ifndef xen_wmb
#define xen_wmb() __atomic_thread_fence(__ATOMIC_RELEASE)
#endif

#endif
