/* duet/duet.h — everything an app usually needs, in one include. */
#ifndef DUET_DUET_H
#define DUET_DUET_H

#include <duet/app.h>
#include <duet/args.h>
#include <duet/block.h>
#include <duet/buildinfo.h>
#include <duet/clock.h>
#include <duet/device.h>
#include <duet/entropy.h>
#include <duet/error.h>
#include <duet/log.h>
#include <duet/loop.h>
#include <duet/netif.h>

#endif
