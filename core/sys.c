/* Public wrappers over the platform's link-time-bound services. */
#include <duet/clock.h>
#include <duet/entropy.h>
#include <duet/log.h>
#include <duet/platform.h>

duet_time_t duet_clock_monotonic(void)
{
	return duet_plat_clock_monotonic();
}

duet_time_t duet_clock_wall(void)
{
	return duet_plat_clock_wall();
}

int duet_entropy(void *buf, size_t len)
{
	return duet_plat_entropy(buf, len);
}

bool duet_entropy_strong(void)
{
	return duet_plat_entropy_strong();
}

uint32_t duet_random_u32(void)
{
	uint32_t v;
	int err = duet_plat_entropy(&v, sizeof(v));

	if (err < 0) {
		DUET_ERROR("duet", "entropy source failed (%d)", err);
		return 0;
	}
	return v;
}
