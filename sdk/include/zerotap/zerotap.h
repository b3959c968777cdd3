/* SPDX-License-Identifier: Apache-2.0 */
/* Umbrella header of the zerotap plugin SDK. */
#ifndef ZEROTAP_ZEROTAP_H
#define ZEROTAP_ZEROTAP_H
#include <zerotap/abi.h>
#include <zerotap/host.h>
#include <zerotap/plugin.h>
#include <zerotap/protocol.h>
#endif
