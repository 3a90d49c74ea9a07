/*
 * volume.h - which volume a host path belongs to: a kubelet pod volume
 * (<kubelet-root>/pods/<uid>/volumes/<plugin>/<name>/, or a subPath
 * under volume-subpaths/) or a configured hostPath directory.
 */
#ifndef PODTRAIL_VOLUME_H
#define PODTRAIL_VOLUME_H

#include <stddef.h>

enum vol_type { VOL_NONE, VOL_POD, VOL_SUBPATH, VOL_HOSTPATH };

struct vol_info {
	enum vol_type type;
	char pod_uid[40];
	char plugin[128];	/* kubernetes.io~empty-dir, ...; "" for subpaths */
	char name[256];		/* volume name */
	size_t root_len;	/* host_path[0..root_len) is the volume's root */
};

/*
 * Classify host_path (absolute, normalized). kubelet_root is kubelet's
 * root directory without a trailing '/'; hostpaths[0..nhost) are the
 * configured hostPath directories. Returns out->type (VOL_NONE if none).
 */
enum vol_type vol_classify(const char *host_path, const char *kubelet_root,
    char *const *hostpaths, int nhost, struct vol_info *out);

#endif
