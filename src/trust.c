/* trust.c - pinned node keys for the verifier (see trust.h). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "log.h"
#include "sign.h"
#include "trust.h"

struct pin {
	char *node;
	struct sign_key *key;
};

struct trust {
	struct pin *p;
	size_t n;
	const char *file_node;	/* while loading: the name a file gives */
	int failed;
};

struct trust *
trust_new(void)
{
	struct trust *t = calloc(1, sizeof(*t));

	if (t == NULL)
		log_warn("trust");
	return t;
}

static void
add_key(struct sign_key *k, const char *label, void *arg)
{
	struct trust *t = arg;
	const char *node = label ? label : t->file_node;
	struct pin *np;

	if (node == NULL || *node == '\0' ||
	    (np = realloc(t->p, (t->n + 1) * sizeof(*np))) == NULL) {
		t->failed = 1;
		sign_free(k);
		return;
	}
	t->p = np;
	if ((np[t->n].node = strdup(node)) == NULL) {
		t->failed = 1;
		sign_free(k);
		return;
	}
	np[t->n++].key = k;
}

static int
load_file(struct trust *t, const char *path, const char *base)
{
	char node[256];
	struct buf b = BUF_INIT;
	char chunk[4096];
	size_t n, blen = strlen(base);
	FILE *fp;
	int rc = -1;

	/* NAME.pem or NAME.pub names the node when the file does not */
	snprintf(node, sizeof(node), "%s", base);
	if (blen > 4 && (!strcmp(base + blen - 4, ".pem") ||
	    !strcmp(base + blen - 4, ".pub")))
		node[blen - 4] = '\0';
	t->file_node = node;
	t->failed = 0;
	if ((fp = fopen(path, "re")) == NULL) {
		log_warn("%s", path);
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		if (buf_add(&b, chunk, n) == -1)
			goto cleanup;
	if (ferror(fp)) {
		log_warn("%s", path);
		goto cleanup;
	}
	if (b.len == 0 || sign_read_pems(b.data, b.len, add_key, t) == -1) {
		log_warnx("%s: no Ed25519 public key (PEM)", path);
		goto cleanup;
	}
	if (t->failed) {
		log_warnx("%s: out of memory", path);
		goto cleanup;
	}
	rc = 0;
cleanup:
	t->file_node = NULL;
	fclose(fp);
	buf_free(&b);
	return rc;
}

int
trust_load(struct trust *t, const char *path)
{
	struct stat st;
	struct dirent **names = NULL;
	int n, rc = 0;

	if (stat(path, &st) == -1) {
		log_warn("%s", path);
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		const char *base = strrchr(path, '/');

		return load_file(t, path, base ? base + 1 : path);
	}
	if ((n = scandir(path, &names, NULL, alphasort)) == -1) {
		log_warn("%s", path);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		char full[4096];

		if (names[i]->d_name[0] != '.' && rc == 0) {
			snprintf(full, sizeof(full), "%s/%s", path,
			    names[i]->d_name);
			if (stat(full, &st) == 0 && S_ISREG(st.st_mode))
				rc = load_file(t, full, names[i]->d_name);
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

size_t
trust_count(const struct trust *t)
{
	return t ? t->n : 0;
}

int
trust_check(const struct trust *t, const char *node, const struct sign_key *k)
{
	for (size_t i = 0; t && i < t->n; i++)
		if (strcmp(t->p[i].node, node) == 0 && sign_same(t->p[i].key, k))
			return 1;
	return 0;
}

void
trust_free(struct trust *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->n; i++) {
		free(t->p[i].node);
		sign_free(t->p[i].key);
	}
	free(t->p);
	free(t);
}
