/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include "netns.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zerotap/abi.h>

#include "log.h"

int netns_run(int self_fd, uint32_t inum, uint32_t tgid, int (*fn)(void *arg), void *arg)
{
	char path[64];
	struct stat st;
	int fd, err;

	snprintf(path, sizeof(path), "/proc/%u/ns/net", tgid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	if (fstat(fd, &st) || (uint32_t)st.st_ino != inum) {
		close(fd);
		return -ESRCH;
	}
	if (setns(fd, CLONE_NEWNET)) {
		err = -errno;
		close(fd);
		return err;
	}
	err = fn(arg);
	if (setns(self_fd, CLONE_NEWNET))
		log_msg(ZT_LOG_ERROR, NULL, "netns: cannot return to the agent's network namespace: %s",
			strerror(errno));
	close(fd);
	return err;
}
