/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Node discovery: the node-level families of METRICS.md ("Node"), read
 * from procfs and sysfs on a host timer. Nothing here needs BPF; it runs
 * on the dispatch thread, where reading /proc is allowed.
 *
 * proc_root and sys_root exist so the agent can read a host's trees from
 * inside a container (/host/proc) and so tests can point at a fake tree.
 * Interface addresses come from getifaddrs(), i.e. netlink in the agent's
 * own network namespace, which proc_root does not change.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <zerotap/plugin.h>

/* diskstats counts in 512-byte sectors whatever the device's sector size. */
#define SECTOR_BYTES 512.0

static const struct zt_config_field node_config[] = {
	{ "interval_ms", ZT_CFG_INT, 0, "5000", "How often the node families are refreshed, in milliseconds.", 100,
	  3600000 },
	{ "proc_root", ZT_CFG_STRING, 0, "\"/proc\"",
	  "Where procfs is mounted; \"/host/proc\" when the agent runs in a container.", 1, 0 },
	{ "sys_root", ZT_CFG_STRING, 0, "\"/sys\"",
	  "Where sysfs is mounted; \"/host/sys\" when the agent runs in a container.", 1, 0 },
	ZT_CFG_END,
};

/* ------------------------------------------------------------- families */

enum {
	F_INFO,
	F_UPTIME,
	F_CPU,
	F_CORES,
	F_MEM_TOTAL,
	F_MEM_FREE,
	F_MEM_AVAILABLE,
	F_MEM_CACHED,
	F_DISK_READS, /* the seven disk families stay in diskstats' order */
	F_DISK_WRITES,
	F_DISK_READ_BYTES,
	F_DISK_WRITTEN_BYTES,
	F_DISK_READ_TIME,
	F_DISK_WRITE_TIME,
	F_DISK_IO_TIME,
	F_NET_RX_BYTES, /* the four net counters, then interface_up */
	F_NET_TX_BYTES,
	F_NET_RX_PACKETS,
	F_NET_TX_PACKETS,
	F_IF_UP,
	F_IF_IP,
	F_COUNT
};

#define N_DISK (F_DISK_IO_TIME - F_DISK_READS + 1)
#define N_NET (F_NET_TX_PACKETS - F_NET_RX_BYTES + 1)

static const char *const l_info[] = { "hostname", "kernel_version" };
static const char *const l_mode[] = { "mode" };
static const char *const l_device[] = { "device" };
static const char *const l_iface[] = { "interface" };
static const char *const l_ip[] = { "interface", "ip" };

#define C ZT_METRIC_COUNTER
#define G ZT_METRIC_GAUGE
static const struct family {
	const char *name;
	uint32_t type;
	const char *const *labels;
	uint32_t nlabels;
	const char *help;
} families[F_COUNT] = {
	[F_INFO] = { "node_info", G, l_info, 2, "Node identity; always 1 (uname)." },
	[F_UPTIME] = { "node_uptime_seconds", G, NULL, 0, "Seconds since boot (/proc/uptime)." },
	[F_CPU] = { "node_resources_cpu_usage_seconds_total", C, l_mode, 1,
		    "CPU time of all CPUs together, by mode (/proc/stat)." },
	[F_CORES] = { "node_resources_cpu_logical_cores", G, NULL, 0, "Logical CPUs (/proc/stat)." },
	[F_MEM_TOTAL] = { "node_resources_memory_total_bytes", G, NULL, 0, "MemTotal (/proc/meminfo)." },
	[F_MEM_FREE] = { "node_resources_memory_free_bytes", G, NULL, 0, "MemFree (/proc/meminfo)." },
	[F_MEM_AVAILABLE] = { "node_resources_memory_available_bytes", G, NULL, 0, "MemAvailable (/proc/meminfo)." },
	[F_MEM_CACHED] = { "node_resources_memory_cached_bytes", G, NULL, 0, "Cached (/proc/meminfo)." },
	[F_DISK_READS] = { "node_resources_disk_reads_total", C, l_device, 1, "Reads completed (/proc/diskstats)." },
	[F_DISK_WRITES] = { "node_resources_disk_writes_total", C, l_device, 1,
			    "Writes completed (/proc/diskstats)." },
	[F_DISK_READ_BYTES] = { "node_resources_disk_read_bytes_total", C, l_device, 1,
				"Bytes read (/proc/diskstats)." },
	[F_DISK_WRITTEN_BYTES] = { "node_resources_disk_written_bytes_total", C, l_device, 1,
				   "Bytes written (/proc/diskstats)." },
	[F_DISK_READ_TIME] = { "node_resources_disk_read_time_seconds_total", C, l_device, 1,
			       "Time spent reading (/proc/diskstats)." },
	[F_DISK_WRITE_TIME] = { "node_resources_disk_write_time_seconds_total", C, l_device, 1,
				"Time spent writing (/proc/diskstats)." },
	[F_DISK_IO_TIME] = { "node_resources_disk_io_time_seconds_total", C, l_device, 1,
			     "Time the device had I/O in flight (/proc/diskstats)." },
	[F_NET_RX_BYTES] = { "node_net_received_bytes_total", C, l_iface, 1, "Bytes received (/proc/net/dev)." },
	[F_NET_TX_BYTES] = { "node_net_transmitted_bytes_total", C, l_iface, 1,
			     "Bytes transmitted (/proc/net/dev)." },
	[F_NET_RX_PACKETS] = { "node_net_received_packets_total", C, l_iface, 1,
			       "Packets received (/proc/net/dev)." },
	[F_NET_TX_PACKETS] = { "node_net_transmitted_packets_total", C, l_iface, 1,
			       "Packets transmitted (/proc/net/dev)." },
	[F_IF_UP] = { "node_net_interface_up", G, l_iface, 1,
		      "1 when the interface is administratively up and operational (sysfs flags, operstate)." },
	[F_IF_IP] = { "node_net_interface_ip", G, l_ip, 2,
		      "An address of the interface; always 1 (getifaddrs; IPv6 link-local skipped)." },
};
#undef C
#undef G

/* ------------------------------------------------------------------ state */

/* One series key (one or two label values) with the last counter readings,
 * so a vanished key's series can be removed and a reset one restarted. */
struct key {
	char a[72]; /* device, interface or hostname (<= 64) */
	char b[72]; /* ip or kernel_version */
	double v[N_DISK];
};

struct keyset {
	struct key *k;
	size_t n, cap;
};

/* Sources, for warn-once logging. */
enum { S_INFO, S_UPTIME, S_STAT, S_MEMINFO, S_DISKSTATS, S_NETDEV, S_IFADDRS, S_COUNT };

struct node_state {
	const struct zt_host *host;
	zt_instance *inst;
	char *proc_root;
	char *sys_root;
	uint64_t timer_id;
	double clk_tck;
	zt_metric *m[F_COUNT];
	/* prev: what the last refresh exported; cur: being built now. */
	struct keyset info[2], disks[2], ifaces[2], ips[2];
	uint32_t failing; /* S_* bits of sources that failed last time */
};

static struct key *keyset_add(struct keyset *s, const char *a, const char *b)
{
	if (s->n == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 16;
		struct key *k = realloc(s->k, ncap * sizeof(*k));
		if (!k)
			return NULL;
		s->k = k;
		s->cap = ncap;
	}
	struct key *k = &s->k[s->n++];
	memset(k, 0, sizeof(*k));
	snprintf(k->a, sizeof(k->a), "%s", a);
	snprintf(k->b, sizeof(k->b), "%s", b ? b : "");
	return k;
}

static const struct key *keyset_find(const struct keyset *s, const struct key *k)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->k[i].a, k->a) && !strcmp(s->k[i].b, k->b))
			return &s->k[i];
	return NULL;
}

static struct zt_str zs(const char *s)
{
	return (struct zt_str){ s, strlen(s) };
}

/* Removes the series of every key in set[0] (last refresh) missing from
 * set[1] (this one) from families first..last, then makes set[1] the new
 * set[0]. */
static void keyset_commit(struct node_state *st, struct keyset set[2], int first, int last)
{
	for (size_t i = 0; i < set[0].n; i++) {
		const struct key *k = &set[0].k[i];
		if (keyset_find(&set[1], k))
			continue;
		struct zt_str lv[2] = { zs(k->a), zs(k->b) };
		for (int f = first; f <= last; f++)
			st->host->metric_remove(st->m[f], lv);
	}
	struct keyset tmp = set[0];
	set[0] = set[1];
	set[1] = tmp;
	set[1].n = 0;
}

/*
 * Counters come from kernel readings, which the registry never lets go
 * backwards. A reading below the last one means the device or interface
 * was recreated under the same name: drop its series so it restarts (a
 * counter reset Prometheus understands) instead of freezing.
 */
static void set_counters(struct node_state *st, const struct keyset *prev, struct key *k, int first, int n)
{
	const struct key *old = keyset_find(prev, k);
	struct zt_str lv[1] = { zs(k->a) };

	for (int i = 0; old && i < n; i++)
		if (k->v[i] < old->v[i]) {
			for (int f = 0; f < n; f++)
				st->host->metric_remove(st->m[first + f], lv);
			break;
		}
	for (int i = 0; i < n; i++)
		st->host->metric_set(st->m[first + i], lv, k->v[i]);
}

/* ---------------------------------------------------------------- readers */

static FILE *open_under(const char *root, const char *rel)
{
	char path[PATH_MAX];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", root, rel) >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	return fopen(path, "re");
}

/* First line of a small file, without its newline. 0 or -errno. */
static int read_line(const char *root, const char *rel, char *out, size_t n)
{
	FILE *f = open_under(root, rel);
	int err = 0;

	if (!f)
		return -errno;
	if (!fgets(out, (int)n, f))
		err = ferror(f) ? -EIO : -ENODATA;
	else
		out[strcspn(out, "\n")] = 0;
	fclose(f);
	return err;
}

/*
 * "12345.67" without strtod: procfs always writes '.', whatever the
 * agent's locale. All digits go into one integer, divided once by a power
 * of ten, so the result is the correctly rounded double strtod would give.
 */
static double parse_decimal(const char *s)
{
	uint64_t digits = 0;
	double scale = 1;
	int frac = 0;

	while (*s == ' ')
		s++;
	for (; (*s >= '0' && *s <= '9') || (*s == '.' && !frac); s++) {
		if (*s == '.') {
			frac = 1;
		} else if (digits < UINT64_MAX / 10 - 9) {
			digits = digits * 10 + (uint64_t)(*s - '0');
			if (frac)
				scale *= 10;
		} else if (!frac) {
			scale /= 10; /* an integer digit past 19 still counts */
		}
	}
	return (double)digits / scale;
}

static int read_info(struct node_state *st)
{
	char host[72] = "", kernel[72] = "";
	struct utsname u;
	struct key *k;

	/* procfs first, so a containerised agent reports the host's names. */
	if (read_line(st->proc_root, "sys/kernel/hostname", host, sizeof(host)) ||
	    read_line(st->proc_root, "sys/kernel/osrelease", kernel, sizeof(kernel))) {
		if (uname(&u))
			return -errno;
		snprintf(host, sizeof(host), "%s", u.nodename);
		snprintf(kernel, sizeof(kernel), "%s", u.release);
	}
	if (!(k = keyset_add(&st->info[1], host, kernel)))
		return -ENOMEM;
	st->host->metric_set(st->m[F_INFO], (struct zt_str[]){ zs(k->a), zs(k->b) }, 1);
	keyset_commit(st, st->info, F_INFO, F_INFO);
	return 0;
}

static int read_uptime(struct node_state *st)
{
	char line[128];
	int err = read_line(st->proc_root, "uptime", line, sizeof(line));

	if (!err)
		st->host->metric_set(st->m[F_UPTIME], NULL, parse_decimal(line));
	return err;
}

static int read_stat(struct node_state *st)
{
	static const char *const modes[] = { "user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal" };
	unsigned long long t[8];
	FILE *f = open_under(st->proc_root, "stat");
	char *line = NULL;
	size_t cap = 0;
	int cores = 0, n = -1;

	if (!f)
		return -errno;
	/* getline: the intr line runs to tens of kilobytes on big machines. */
	while (getline(&line, &cap, f) > 0) {
		if (!strncmp(line, "cpu ", 4))
			n = sscanf(line + 4, "%llu %llu %llu %llu %llu %llu %llu %llu", &t[0], &t[1], &t[2], &t[3],
				   &t[4], &t[5], &t[6], &t[7]);
		else if (!strncmp(line, "cpu", 3) && line[3] >= '0' && line[3] <= '9')
			cores++;
	}
	free(line);
	fclose(f);
	if (n < 4)
		return -ENODATA;
	/* Old kernels lack the later columns: export the modes they have. */
	for (int i = 0; i < n; i++)
		st->host->metric_set(st->m[F_CPU], (struct zt_str[]){ zs(modes[i]) }, (double)t[i] / st->clk_tck);
	st->host->metric_set(st->m[F_CORES], NULL, cores);
	return 0;
}

static int read_meminfo(struct node_state *st)
{
	static const struct {
		const char *key;
		int family;
	} keys[] = { { "MemTotal", F_MEM_TOTAL },
		     { "MemFree", F_MEM_FREE },
		     { "MemAvailable", F_MEM_AVAILABLE },
		     { "Cached", F_MEM_CACHED } };
	FILE *f = open_under(st->proc_root, "meminfo");
	char line[256], key[64], unit[8];
	unsigned long long v;
	int found = 0;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		int n = sscanf(line, "%63[^:]: %llu %7s", key, &v, unit);
		if (n < 2)
			continue;
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (!strcmp(key, keys[i].key)) {
				double bytes = (double)v * (n == 3 && !strcmp(unit, "kB") ? 1024 : 1);
				st->host->metric_set(st->m[keys[i].family], NULL, bytes);
				found++;
			}
	}
	fclose(f);
	return found ? 0 : -ENODATA;
}

/* Whole disks have /sys/block/<name> ("cciss/c0d0" is "cciss!c0d0"
 * there); partitions do not. */
static int is_whole_disk(struct node_state *st, const char *name)
{
	char path[PATH_MAX];
	struct stat sb;
	size_t n = (size_t)snprintf(path, sizeof(path), "%s/block/", st->sys_root);

	if (n + strlen(name) >= sizeof(path))
		return 0;
	for (const char *p = name; *p; p++)
		path[n++] = *p == '/' ? '!' : *p;
	path[n] = 0;
	return stat(path, &sb) == 0;
}

static int read_diskstats(struct node_state *st)
{
	FILE *f = open_under(st->proc_root, "diskstats");
	unsigned long long r, rm, rs, rt, w, wm, ws, wt, inflight, io;
	unsigned maj, min;
	char line[512], name[64];
	int err = 0;

	if (!f)
		return -errno;
	while (!err && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%u %u %63s %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &maj, &min, name, &r,
			   &rm, &rs, &rt, &w, &wm, &ws, &wt, &inflight, &io) != 13)
			continue;
		/* Every idle loop and ram device would add seven dead series. */
		if ((!strncmp(name, "loop", 4) || !strncmp(name, "ram", 3)) && !r && !w)
			continue;
		if (!is_whole_disk(st, name))
			continue;
		struct key *k = keyset_add(&st->disks[1], name, NULL);
		if (!k) {
			err = -ENOMEM;
			break;
		}
		const double v[N_DISK] = { r, w, rs * SECTOR_BYTES, ws * SECTOR_BYTES, rt / 1e3, wt / 1e3, io / 1e3 };
		memcpy(k->v, v, sizeof(v));
		set_counters(st, &st->disks[0], k, F_DISK_READS, N_DISK);
	}
	fclose(f);
	if (err) {
		st->disks[1].n = 0;
		return err;
	}
	keyset_commit(st, st->disks, F_DISK_READS, F_DISK_IO_TIME);
	return 0;
}

/* IFF_RUNNING as the kernel derives it: up, and operstate up or unknown
 * (loopback and tun report "unknown"). -1 when sysfs cannot tell. */
static int iface_up(struct node_state *st, const char *name)
{
	char rel[128], flags[32], oper[32];

	snprintf(rel, sizeof(rel), "class/net/%s/flags", name);
	if (read_line(st->sys_root, rel, flags, sizeof(flags)))
		return -1;
	snprintf(rel, sizeof(rel), "class/net/%s/operstate", name);
	if (read_line(st->sys_root, rel, oper, sizeof(oper)))
		return -1;
	return (strtoul(flags, NULL, 16) & IFF_UP) && (!strcmp(oper, "up") || !strcmp(oper, "unknown"));
}

static int read_netdev(struct node_state *st)
{
	FILE *f = open_under(st->proc_root, "net/dev");
	unsigned long long v[16];
	char line[512];
	int err = 0;

	if (!f)
		return -errno;
	while (!err && fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':'), *name = line;
		if (!colon) /* the two header lines */
			continue;
		*colon = 0;
		while (*name == ' ')
			name++;
		if (!*name || strlen(name) >= IFNAMSIZ)
			continue;
		if (sscanf(colon + 1, "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
			   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9], &v[10], &v[11], &v[12],
			   &v[13], &v[14], &v[15]) != 16)
			continue;
		struct key *k = keyset_add(&st->ifaces[1], name, NULL);
		if (!k) {
			err = -ENOMEM;
			break;
		}
		/* Same order as F_NET_RX_BYTES..F_NET_TX_PACKETS. */
		const double c[N_NET] = { v[0], v[8], v[1], v[9] };
		memcpy(k->v, c, sizeof(c));
		set_counters(st, &st->ifaces[0], k, F_NET_RX_BYTES, N_NET);
		int up = iface_up(st, k->a);
		struct zt_str lv[1] = { zs(k->a) };
		if (up >= 0)
			st->host->metric_set(st->m[F_IF_UP], lv, up);
		else
			st->host->metric_remove(st->m[F_IF_UP], lv);
	}
	fclose(f);
	if (err) {
		st->ifaces[1].n = 0;
		return err;
	}
	keyset_commit(st, st->ifaces, F_NET_RX_BYTES, F_IF_UP);
	return 0;
}

static int read_ifaddrs(struct node_state *st)
{
	struct ifaddrs *list, *a;
	char ip[INET6_ADDRSTRLEN];
	int err = 0;

	if (getifaddrs(&list))
		return -errno;
	for (a = list; a && !err; a = a->ifa_next) {
		const void *addr;
		if (!a->ifa_addr || !a->ifa_name)
			continue;
		if (a->ifa_addr->sa_family == AF_INET) {
			addr = &((const struct sockaddr_in *)a->ifa_addr)->sin_addr;
		} else if (a->ifa_addr->sa_family == AF_INET6) {
			const struct in6_addr *a6 = &((const struct sockaddr_in6 *)a->ifa_addr)->sin6_addr;
			if (IN6_IS_ADDR_LINKLOCAL(a6)) /* every interface has one; says nothing */
				continue;
			addr = a6;
		} else {
			continue;
		}
		if (!inet_ntop(a->ifa_addr->sa_family, addr, ip, sizeof(ip)))
			continue;
		struct key *k = keyset_add(&st->ips[1], a->ifa_name, ip);
		if (!k)
			err = -ENOMEM;
		else
			st->host->metric_set(st->m[F_IF_IP], (struct zt_str[]){ zs(k->a), zs(k->b) }, 1);
	}
	freeifaddrs(list);
	if (err) {
		st->ips[1].n = 0;
		return err;
	}
	keyset_commit(st, st->ips, F_IF_IP, F_IF_IP);
	return 0;
}

/* ---------------------------------------------------------------- refresh */

static void refresh(struct node_state *st)
{
	static const struct {
		int (*read)(struct node_state *);
		const char *what;
	} sources[S_COUNT] = {
		[S_INFO] = { read_info, "sys/kernel/{hostname,osrelease}" },
		[S_UPTIME] = { read_uptime, "uptime" },
		[S_STAT] = { read_stat, "stat" },
		[S_MEMINFO] = { read_meminfo, "meminfo" },
		[S_DISKSTATS] = { read_diskstats, "diskstats" },
		[S_NETDEV] = { read_netdev, "net/dev" },
		[S_IFADDRS] = { read_ifaddrs, "getifaddrs" },
	};

	for (int i = 0; i < S_COUNT; i++) {
		int err = sources[i].read(st);
		uint32_t bit = 1u << i;
		/* Once per failure streak: a missing file would otherwise log
		 * every interval forever. */
		if (err && !(st->failing & bit))
			st->host->log(st->inst, ZT_LOG_WARN, "%s (under %s): %s; its families are stale",
				      sources[i].what, i == S_IFADDRS ? "netlink" : st->proc_root, strerror(-err));
		else if (!err && (st->failing & bit))
			st->host->log(st->inst, ZT_LOG_INFO, "%s readable again", sources[i].what);
		st->failing = err ? st->failing | bit : st->failing & ~bit;
	}
}

static void on_timer(void *arg)
{
	refresh(arg);
}

/* -------------------------------------------------------------- lifecycle */

static void node_destroy(struct node_state *st)
{
	if (!st)
		return;
	for (int i = 0; i < 2; i++) {
		free(st->info[i].k);
		free(st->disks[i].k);
		free(st->ifaces[i].k);
		free(st->ips[i].k);
	}
	free(st->proc_root);
	free(st->sys_root);
	free(st);
}

static int config_path(const struct zt_host *host, zt_instance *inst, const char *key, char **out)
{
	struct zt_str v;
	int err = host->config_string(inst, key, &v);

	if (err)
		return err;
	/* "/" + "proc" would give "//proc": harmless, but strip it anyway. */
	while (v.len > 1 && v.ptr[v.len - 1] == '/')
		v.len--;
	*out = strndup(v.ptr, v.len);
	return *out ? 0 : -ENOMEM;
}

static int node_init(const struct zt_host *host, zt_instance *inst, void **state)
{
	struct node_state *st = calloc(1, sizeof(*st));
	int64_t interval_ms = 0;
	long tck;
	int err;

	if (!st)
		return -ENOMEM;
	st->host = host;
	st->inst = inst;
	if ((err = host->config_int(inst, "interval_ms", &interval_ms)) ||
	    (err = config_path(host, inst, "proc_root", &st->proc_root)) ||
	    (err = config_path(host, inst, "sys_root", &st->sys_root)))
		goto fail;
	/* /proc/stat counts in USER_HZ, which is what _SC_CLK_TCK reports. */
	tck = sysconf(_SC_CLK_TCK);
	st->clk_tck = tck > 0 ? (double)tck : 100.0;
	for (int i = 0; i < F_COUNT; i++) {
		const struct zt_metric_desc d = {
			.struct_size = sizeof(d),
			.type = families[i].type,
			.name = families[i].name,
			.help = families[i].help,
			.labels = families[i].labels,
			.label_count = families[i].nlabels,
		};
		err = host->metric_register(inst, &d, &st->m[i]);
		if (err) {
			host->log(inst, ZT_LOG_ERROR, "registering %s: %s", d.name, strerror(-err));
			goto fail;
		}
	}
	/* A first reading now, so the first scrape is not empty. */
	refresh(st);
	err = host->timer_add(inst, (uint64_t)interval_ms * 1000000u, on_timer, st, &st->timer_id);
	if (err) {
		host->log(inst, ZT_LOG_ERROR, "timer: %s", strerror(-err));
		goto fail;
	}
	*state = st;
	return 0;
fail:
	node_destroy(st);
	return err;
}

static void node_fini(void *state)
{
	struct node_state *st = state;

	st->host->timer_cancel(st->inst, st->timer_id);
	node_destroy(st);
}

static const struct zt_discovery_ops node_ops = {
	.hdr = ZT_OPS_HEADER(struct zt_discovery_ops, ZT_KIND_DISCOVERY),
	.init = node_init,
	.fini = node_fini,
};

ZT_PLUGIN_DEFINE(node, ZT_KIND_DISCOVERY, "0.1.0", "Apache-2.0",
		 "Node families: identity, uptime, CPU, memory, disks, network interfaces", node_config, &node_ops);
