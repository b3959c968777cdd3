/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Replays fuzz inputs through LLVMFuzzerTestOneInput without libFuzzer (any
 * compiler): every file named on the command line or found in a directory
 * named there; with no arguments, $ZT_SOURCE_DIR/plugins/protocol/redis/fuzz/corpus.
 * Registered with ctest as test_redis_fuzz_replay.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		fprintf(stderr, "%s: cannot read\n", path);
		if (f)
			fclose(f);
		return -1;
	}
	buf = malloc((size_t)n + 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "%s: cannot read\n", path);
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t)n);
	free(buf);
	return 0;
}

static int run_path(const char *path, size_t *count)
{
	struct stat sb;
	struct dirent **names;
	int n, err = 0;

	if (stat(path, &sb)) {
		perror(path);
		return -1;
	}
	if (!S_ISDIR(sb.st_mode)) {
		(*count)++;
		return run_file(path);
	}
	n = scandir(path, &names, NULL, alphasort);
	if (n < 0) {
		perror(path);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		char *p;
		if (names[i]->d_name[0] != '.' && asprintf(&p, "%s/%s", path, names[i]->d_name) >= 0) {
			if (run_path(p, count))
				err = -1;
			free(p);
		}
		free(names[i]);
	}
	free(names);
	return err;
}

int main(int argc, char **argv)
{
	char def[4096];
	size_t count = 0;
	int err = 0;

	if (argc < 2) {
		const char *src = getenv("ZT_SOURCE_DIR");
		snprintf(def, sizeof(def), "%s/plugins/protocol/redis/fuzz/corpus", src ? src : ".");
		err = run_path(def, &count);
	}
	for (int i = 1; i < argc; i++)
		if (run_path(argv[i], &count))
			err = -1;
	printf("replayed %zu inputs\n", count);
	if (!count) {
		fprintf(stderr, "no inputs\n");
		return 1;
	}
	return err ? 1 : 0;
}
