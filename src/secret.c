/* secret.c - key and token files (see secret.h). */
#include "config.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "secret.h"

unsigned char *
secret_read(const char *path, size_t *len)
{
	struct stat st;
	unsigned char *p = NULL;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		log_warn("%s", path);
		return NULL;
	}
	if (fstat(fd, &st) == -1) {
		log_warn("%s", path);
		goto err;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		log_warnx("%s: readable by group or others; chmod 600 it",
		    path);
		goto err;
	}
	if (st.st_size <= 0 || st.st_size > 65536) {
		log_warnx("%s: empty or larger than 64 KiB", path);
		goto err;
	}
	if ((p = malloc((size_t)st.st_size + 1)) == NULL) {
		log_warn("%s", path);
		goto err;
	}
	if ((n = read(fd, p, (size_t)st.st_size)) != st.st_size) {
		log_warn("%s: short read", path);
		goto err;
	}
	while (n > 0 && (p[n - 1] == '\n' || p[n - 1] == '\r'))
		n--;
	if (n == 0) {
		log_warnx("%s: empty", path);
		goto err;
	}
	p[n] = '\0';
	*len = (size_t)n;
	close(fd);
	return p;
err:
	free(p);
	close(fd);
	return NULL;
}
