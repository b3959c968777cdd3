// SPDX-License-Identifier: Apache-2.0
/*
 * Runs fuzz_mysql.c's LLVMFuzzerTestOneInput over files, without libFuzzer:
 * the committed corpus as an ordinary test (built by any compiler).
 *
 *   replay [FILE|DIR]...    (default: $ZT_SOURCE_DIR/plugins/protocol/mysql/fuzz/corpus)
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
void fuzz_mysql_cleanup(void);

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;

	if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		fprintf(stderr, "replay: %s: cannot read\n", path);
		if (f)
			fclose(f);
		return -1;
	}
	buf = malloc(n ? (size_t)n : 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "replay: %s: cannot read\n", path);
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t)n);
	free(buf);
	return 0;
}

static int run(const char *path, size_t *count)
{
	struct stat st;
	if (stat(path, &st)) {
		fprintf(stderr, "replay: %s: not found\n", path);
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		(*count)++;
		return run_file(path);
	}
	DIR *d = opendir(path);
	struct dirent *de;
	int err = 0;
	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.') {
			char *p;
			if (asprintf(&p, "%s/%s", path, de->d_name) < 0)
				return -1;
			err |= run(p, count);
			free(p);
		}
	closedir(d);
	return err;
}

int main(int argc, char **argv)
{
	size_t count = 0;
	int err = 0;

	if (argc < 2) {
		const char *src = getenv("ZT_SOURCE_DIR");
		char *dir;
		if (asprintf(&dir, "%s/plugins/protocol/mysql/fuzz/corpus", src ? src : ".") < 0)
			return 1;
		err = run(dir, &count);
		free(dir);
	} else {
		for (int i = 1; i < argc; i++)
			err |= run(argv[i], &count);
	}
	fuzz_mysql_cleanup();
	printf("replay: %zu inputs\n", count);
	if (count < 20) {
		fprintf(stderr, "replay: expected the committed corpus (20+ inputs)\n");
		return 1;
	}
	return err ? 1 : 0;
}
