// SPDX-License-Identifier: Apache-2.0
/*
 * A protocol plugin's libFuzzer target (its LLVMFuzzerTestOneInput) run over
 * files without libFuzzer, so its committed corpus replays as an ordinary
 * test built by any compiler. One driver for every plugin, configured at
 * build time:
 *
 *   ZT_FUZZ_CORPUS   the default corpus, relative to $ZT_SOURCE_DIR
 *                    ("plugins/protocol/http/fuzz/corpus")
 *   ZT_FUZZ_CLEANUP  optional: a void (void) function of the target that
 *                    frees what it keeps between inputs (valgrind-clean exit)
 *   ZT_FUZZ_MIN      optional: fewer inputs than this fail (default 20: the
 *                    committed corpus, not an empty or missing directory)
 *
 *   replay [FILE|DIR]...    (default: the corpus)
 *
 * Directories are read in name order, so a failure replays the same way.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef ZT_FUZZ_CORPUS
#error "ZT_FUZZ_CORPUS: the plugin's corpus directory, relative to the source tree"
#endif
#ifndef ZT_FUZZ_MIN
#define ZT_FUZZ_MIN 20
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
#ifdef ZT_FUZZ_CLEANUP
void ZT_FUZZ_CLEANUP(void);
#endif

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		fprintf(stderr, "replay: %s: cannot read\n", path);
		if (f)
			fclose(f);
		return -1;
	}
	buf = malloc((size_t)n + 1);
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
	struct dirent **names;
	int n, err = 0;

	if (stat(path, &st)) {
		fprintf(stderr, "replay: %s: not found\n", path);
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
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
			err |= run(p, count);
			free(p);
		}
		free(names[i]);
	}
	free(names);
	return err;
}

int main(int argc, char **argv)
{
	size_t count = 0;
	int err = 0;

	if (argc < 2) {
		const char *src = getenv("ZT_SOURCE_DIR");
		char *dir;
		if (asprintf(&dir, "%s/%s", src ? src : ".", ZT_FUZZ_CORPUS) < 0)
			return 1;
		err = run(dir, &count);
		free(dir);
	}
	for (int i = 1; i < argc; i++)
		err |= run(argv[i], &count);
#ifdef ZT_FUZZ_CLEANUP
	ZT_FUZZ_CLEANUP();
#endif
	printf("replay: %zu inputs\n", count);
	if (count < ZT_FUZZ_MIN) {
		fprintf(stderr, "replay: %zu inputs, expected the committed corpus (%d or more)\n", count, ZT_FUZZ_MIN);
		return 1;
	}
	return err ? 1 : 0;
}
