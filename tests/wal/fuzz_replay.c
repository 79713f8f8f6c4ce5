/*
 * tests/wal/fuzz_replay.c - runs every file of the WAL fuzz corpus
 * (tests/wal/corpus, or the directories given as arguments) through
 * fuzz_wal.c's LLVMFuzzerTestOneInput with the normal compiler, so that
 * `make check` exercises the fuzz target without libFuzzer.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (d == NULL) {
		perror(dir);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		char path[4096];
		uint8_t *buf;
		long size;
		FILE *f;

		if (de->d_name[0] == '.') {
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		f = fopen(path, "rb");
		if (f == NULL) {
			continue;
		}
		fseek(f, 0, SEEK_END);
		size = ftell(f);
		fseek(f, 0, SEEK_SET);
		buf = malloc(size > 0 ? (size_t)size : 1);
		if (buf == NULL ||
		    fread(buf, 1, (size_t)size, f) != (size_t)size) {
			fclose(f);
			free(buf);
			return -1;
		}
		fclose(f);
		LLVMFuzzerTestOneInput(buf, (size_t)size);
		free(buf);
		n++;
	}
	closedir(d);
	return n;
}

int main(int argc, char **argv)
{
	char def[4096];
	int total = 0;

	if (argc < 2) {
		const char *src = getenv("CETCD_SRCDIR");
		snprintf(def, sizeof(def), "%s/tests/wal/corpus",
			 src != NULL ? src : ".");
		int n = replay_dir(def);
		if (n <= 0) {
			fprintf(stderr, "fuzz_replay: no corpus in %s\n", def);
			return 1;
		}
		total = n;
	}
	for (int i = 1; i < argc; i++) {
		int n = replay_dir(argv[i]);
		if (n < 0) {
			return 1;
		}
		total += n;
	}
	printf("fuzz_replay: %d inputs replayed\n", total);
	return 0;
}
