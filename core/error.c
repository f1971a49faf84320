/* Error strings that do not depend on the C library's strerror (the Xen
 * libc subset has none, and its messages would differ between platforms). */
#include <duet/error.h>

const char *duet_strerror(int err)
{
	switch (-err) {
	case 0: return "success";
	case EPERM: return "operation not permitted";
	case ENOENT: return "no such file or directory";
	case EIO: return "input/output error";
	case E2BIG: return "argument list too long";
	case EBADF: return "bad file descriptor";
	case EAGAIN: return "resource temporarily unavailable";
	case ENOMEM: return "out of memory";
	case EACCES: return "permission denied";
	case EFAULT: return "bad address";
	case EBUSY: return "device or resource busy";
	case EEXIST: return "already exists";
	case ENODEV: return "no such device";
	case ENOTDIR: return "not a directory";
	case EISDIR: return "is a directory";
	case EINVAL: return "invalid argument";
	case ENFILE: return "too many open files in system";
	case EMFILE: return "too many open files";
	case EFBIG: return "file too large";
	case ENOSPC: return "no space left on device";
	case EROFS: return "read-only device";
	case EPIPE: return "broken pipe";
	case ERANGE: return "out of range";
	case ENAMETOOLONG: return "name too long";
	case ENOSYS: return "not implemented";
	case ENOTSUP: return "not supported";
	case ENOTEMPTY: return "not empty";
	case ENODATA: return "no data";
	case ETIME: return "timer expired";
	case EPROTO: return "protocol error";
	case EBADMSG: return "bad message";
	case EOVERFLOW: return "value too large";
	case EILSEQ: return "illegal byte sequence";
	case EMSGSIZE: return "message too long";
	case EPROTONOSUPPORT: return "protocol not supported";
	case EADDRINUSE: return "address in use";
	case EADDRNOTAVAIL: return "address not available";
	case ENETDOWN: return "network is down";
	case ENETUNREACH: return "network unreachable";
	case ECONNABORTED: return "connection aborted";
	case ECONNRESET: return "connection reset";
	case ENOBUFS: return "no buffer space";
	case EISCONN: return "already connected";
	case ENOTCONN: return "not connected";
	case ESHUTDOWN: return "endpoint shut down";
	case ETIMEDOUT: return "timed out";
	case ECONNREFUSED: return "connection refused";
	case EHOSTUNREACH: return "host unreachable";
	case EALREADY: return "operation already in progress";
	case EINPROGRESS: return "operation in progress";
	case ECANCELED: return "cancelled";
	case EUCLEAN: return "structure needs cleaning";
	default: return "unknown error";
	}
}
