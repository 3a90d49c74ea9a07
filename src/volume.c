/* volume.c - classify host paths into pod volumes and hostPaths. */
#include "config.h"

#include <string.h>

#include "volume.h"

/* Next component of p: returns its length, *next past it. */
static size_t
comp(const char *p, const char **next)
{
	size_t n = strcspn(p, "/");

	*next = p[n] == '/' ? p + n + 1 : p + n;
	return n;
}

static int
copy(char *dst, size_t dstlen, const char *s, size_t n)
{
	if (n == 0 || n >= dstlen)
		return -1;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

/* Is dir (no trailing '/') a path prefix of p? Its length, or 0. */
static size_t
under(const char *p, const char *dir)
{
	size_t n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (n == 0 || strncmp(p, dir, n) != 0 || (p[n] != '/' && p[n] != '\0'))
		return 0;
	return n;
}

enum vol_type
vol_classify(const char *host_path, const char *kubelet_root,
    char *const *hostpaths, int nhost, struct vol_info *out)
{
	const char *p, *c, *next;
	size_t n, k;

	memset(out, 0, sizeof(*out));
	if (kubelet_root && *kubelet_root &&
	    (k = under(host_path, kubelet_root)) > 0 && host_path[k] == '/' &&
	    strncmp(host_path + k, "/pods/", 6) == 0) {
		p = host_path + k + 6;
		n = comp(p, &next);
		if (copy(out->pod_uid, sizeof(out->pod_uid), p, n) == -1)
			goto hostpath;
		c = next;
		n = comp(c, &next);
		if (n == 7 && !strncmp(c, "volumes", 7)) {
			/* volumes/<plugin>/<name>[/...] */
			c = next;
			n = comp(c, &next);
			if (copy(out->plugin, sizeof(out->plugin), c, n) == -1)
				goto hostpath;
			c = next;
			n = comp(c, &next);
			if (copy(out->name, sizeof(out->name), c, n) == -1)
				goto hostpath;
			out->root_len = (size_t)(c + n - host_path);
			return out->type = VOL_POD;
		}
		if (n == 15 && !strncmp(c, "volume-subpaths", 15)) {
			/* volume-subpaths/<volume>/<container>/<index>[/...] */
			c = next;
			n = comp(c, &next);
			if (copy(out->name, sizeof(out->name), c, n) == -1)
				goto hostpath;
			for (int i = 0; i < 2; i++) {
				c = next;
				n = comp(c, &next);
				if (n == 0)
					goto hostpath;
			}
			out->root_len = (size_t)(c + n - host_path);
			return out->type = VOL_SUBPATH;
		}
	}
hostpath:
	memset(out, 0, sizeof(*out));
	for (int i = 0; i < nhost; i++) {
		if ((k = under(host_path, hostpaths[i])) > 0) {
			out->root_len = k;
			return out->type = VOL_HOSTPATH;
		}
	}
	return VOL_NONE;
}
