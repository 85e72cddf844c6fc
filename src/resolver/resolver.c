/* SPDX-License-Identifier: MIT */
/* resolver: the conflict order (see resolver.h). */
#include "resolver/resolver.h"

#include <assert.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/perm.h"

struct resolver {
	rumor_resolve_fn fn;      /* NULL: default order only */
	void *dl;                 /* dlopen handle, or NULL */
	char *name;
	struct resolver_stats stats;
};

static int resolver_alloc(struct resolver **out, rumor_resolve_fn fn,
			  const char *name, struct err *err)
{
	struct resolver *r = calloc(1, sizeof *r);

	if (r == NULL)
		return err_set(err, RUMOR_ENOMEM, "resolver: out of memory");
	r->fn = fn;
	r->name = strdup(name);
	if (r->name == NULL) {
		free(r);
		return err_set(err, RUMOR_ENOMEM, "resolver: out of memory");
	}
	*out = r;
	return 0;
}

int resolver_new_default(struct resolver **out, struct err *err)
{
	return resolver_alloc(out, NULL, "default", err);
}

int resolver_new_fn(struct resolver **out, rumor_resolve_fn fn,
		    const char *name, struct err *err)
{
	return resolver_alloc(out, fn,
			      name != NULL ? name : (fn ? "function" : "default"),
			      err);
}

/* A resolver runs inside the node with all its rights: whoever can
 * replace the file, or write the directory that holds it (and so put
 * another file in its place), can run code as the node. Only the
 * effective uid and root may. */
static const struct perm_rule resolver_file_rule = {
	"resolver", PERM_OWNER_SELF_OR_ROOT, S_IWGRP | S_IWOTH, "go-w",
};
static const struct perm_rule resolver_dir_rule = {
	"resolver directory", PERM_OWNER_SELF_OR_ROOT, S_IWGRP | S_IWOTH,
	"go-w",
};

/* Checks the file path leads to (symbolic links resolved) and its
 * directory against the rules above, before anything is loaded; on
 * success *real is that file's path (malloc'd, the caller frees it), to
 * be loaded rather than path, so that the file checked is the file
 * loaded. RUMOR_ERESOLVER naming the problem and the fix otherwise. */
static int resolver_check_file(const char *path, char **real,
			       struct err *err)
{
	struct stat st;
	struct err why;
	char *rp, *slash;
	int rv;

	rp = realpath(path, NULL);
	if (rp == NULL)
		return err_set(err, RUMOR_ERESOLVER,
			       "resolver: not a loadable shared object: %s: %s",
			       strerror(errno), path);
	if (stat(rp, &st) != 0 || !S_ISREG(st.st_mode)) {
		rv = err_set(err, RUMOR_ERESOLVER,
			     "resolver: not a loadable shared object: not a "
			     "regular file: %s", path);
		goto err;
	}
	rv = perm_check(rp, &st, &resolver_file_rule, RUMOR_ERESOLVER, err);
	if (rv != 0)
		goto err;
	slash = strrchr(rp, '/');
	assert(slash != NULL);          /* realpath gives an absolute path */
	*slash = '\0';
	if (stat(rp[0] != '\0' ? rp : "/", &st) != 0) {
		rv = err_set(err, RUMOR_ERESOLVER, "resolver: cannot stat %s: %s",
			     rp, strerror(errno));
		goto err;
	}
	err_clear(&why);
	rv = perm_check(rp[0] != '\0' ? rp : "/", &st, &resolver_dir_rule,
			RUMOR_ERESOLVER, &why);
	if (rv != 0) {
		/* chmod of a shared directory (/tmp) is rarely the right fix;
		 * moving the resolver is. */
		rv = err_set(err, RUMOR_ERESOLVER, "%s, or move the resolver "
			     "to a directory only you or root can write",
			     why.msg);
		goto err;
	}
	*slash = '/';
	*real = rp;
	return 0;
err:
	free(rp);
	return rv;
}

int resolver_load(struct resolver **out, const char *path, struct err *err)
{
	const unsigned *abi;
	const char *const *name;
	rumor_resolve_fn fn;
	char *real;
	void *dl;
	int rv;

	if (path == NULL || path[0] == '\0')
		return err_set(err, RUMOR_EINVAL, "resolver: no path given");
	/* Messages say the problem before the path: err cuts them at
	 * RUMOR_ERRMSG_MAX, and a long path must not cut the reason off.
	 *
	 * RTLD_LOCAL: a resolver's symbols never leak into another's. A path
	 * without a slash would be searched for in the library path; make the
	 * user say ./x.so so that the file loaded is the file named. */
	if (strchr(path, '/') == NULL)
		return err_set(err, RUMOR_ERESOLVER,
			       "resolver: give a path with a '/' (e.g. ./%s)",
			       path);
	rv = resolver_check_file(path, &real, err);
	if (rv != 0)
		return rv;
	dl = dlopen(real, RTLD_NOW | RTLD_LOCAL);
	free(real);
	if (dl == NULL) {
		const char *why = dlerror();

		/* glibc's reason starts with the path; say it only once. */
		if (why != NULL && strstr(why, path) != NULL)
			return err_set(err, RUMOR_ERESOLVER,
				       "resolver: not a loadable shared object: %s",
				       why);
		return err_set(err, RUMOR_ERESOLVER,
			       "resolver: not a loadable shared object: %s: %s",
			       why != NULL ? why : "unknown reason", path);
	}
	abi = dlsym(dl, "rumor_resolver_abi");
	if (abi == NULL) {
		rv = err_set(err, RUMOR_ERESOLVER,
			     "resolver: missing symbol rumor_resolver_abi in %s",
			     path);
		goto err_after_dlopen;
	}
	if (*abi != RUMOR_RESOLVER_ABI) {
		rv = err_set(err, RUMOR_ERESOLVER,
			     "resolver: ABI %u, this node speaks ABI %u: %s",
			     *abi, (unsigned)RUMOR_RESOLVER_ABI, path);
		goto err_after_dlopen;
	}
	/* POSIX guarantees that a function pointer round-trips through
	 * dlsym's void *. */
	*(void **)&fn = dlsym(dl, "rumor_resolve");
	if (fn == NULL) {
		rv = err_set(err, RUMOR_ERESOLVER,
			     "resolver: missing function rumor_resolve in %s",
			     path);
		goto err_after_dlopen;
	}
	name = dlsym(dl, "rumor_resolver_name");
	rv = resolver_alloc(out, fn,
			    name != NULL && *name != NULL ? *name : path, err);
	if (rv != 0)
		goto err_after_dlopen;
	(*out)->dl = dl;
	return 0;

err_after_dlopen:
	dlclose(dl);
	return rv;
}

void resolver_free(struct resolver *r)
{
	if (r == NULL)
		return;
	if (r->dl != NULL)
		dlclose(r->dl);
	free(r->name);
	free(r);
}

const char *resolver_name(const struct resolver *r)
{
	return r->name;
}

static int origin_cmp(const struct rumor_version *a,
		      const struct rumor_version *b)
{
	size_t n = a->origin_len < b->origin_len ? a->origin_len
						   : b->origin_len;
	int c = memcmp(a->origin, b->origin, n);

	if (c != 0)
		return c;
	return (a->origin_len > b->origin_len) - (a->origin_len < b->origin_len);
}

static int u64_cmp(uint64_t a, uint64_t b)
{
	return (a > b) - (a < b);
}

int resolver_default_order(const struct rumor_version *a,
			   const struct rumor_version *b)
{
	int c;

	/* The greater wins, so a wins (negative) when a > b. */
	c = u64_cmp(a->wall_ms, b->wall_ms);
	if (c == 0)
		c = origin_cmp(a, b);
	if (c == 0)
		c = u64_cmp(a->seq, b->seq);
	return -c;
}

/* Which version fn keeps: -1 for a, 1 for b, 0 for no opinion. */
static int ask(rumor_resolve_fn fn, const struct rumor_version *a,
	       const struct rumor_version *b)
{
	int r = fn(a, b);

	return (r > 0) - (r < 0);
}

/* The order, counting into stats (NULL: nothing counted); *why gets
 * the detailed reason. */
static int order(struct resolver *r, const struct rumor_version *a,
		 const struct rumor_version *b, struct resolver_stats *stats,
		 enum resolver_reason *why)
{
	int c, ab, ba;

	c = u64_cmp(a->clock, b->clock);
	if (c != 0) {
		*why = RESOLVER_BY_CLOCK;
		return -c;
	}
	c = origin_cmp(a, b);
	if (c == 0) {
		c = u64_cmp(a->seq, b->seq);
		*why = c != 0 ? RESOLVER_BY_SEQ : RESOLVER_SAME;
		return -c;
	}

	/* Same clock, different origins: a real conflict. */
	if (r != NULL && r->fn != NULL) {
		ab = ask(r->fn, a, b);
		ba = ask(r->fn, b, a);
		/* Consistent when both pick the same version: ab keeps a (-1)
		 * exactly when ba keeps a (+1). */
		if (ab != 0 && ab == -ba) {
			if (stats != NULL)
				stats->decided_user++;
			*why = RESOLVER_BY_USER;
			return ab;
		}
		if (stats != NULL && ab == 0 && ba == 0)
			stats->no_opinion++;
		else if (stats != NULL)
			stats->symmetry_violations++;
	}
	if (stats != NULL)
		stats->decided_default++;
	*why = a->wall_ms != b->wall_ms ? RESOLVER_BY_WALL : RESOLVER_BY_ORIGIN;
	c = resolver_default_order(a, b);
	assert(c != 0);
	return c;
}

int resolver_order(struct resolver *r, const struct rumor_version *a,
		   const struct rumor_version *b, enum resolver_via *via)
{
	enum resolver_reason why;
	int c = order(r, a, b, r != NULL ? &r->stats : NULL, &why);

	if (via != NULL)
		*via = why == RESOLVER_BY_USER ? RESOLVER_VIA_USER :
			why == RESOLVER_BY_WALL || why == RESOLVER_BY_ORIGIN ?
			RESOLVER_VIA_DEFAULT : RESOLVER_VIA_NONE;
	return c;
}

int resolver_explain(struct resolver *r, const struct rumor_version *a,
		     const struct rumor_version *b,
		     enum resolver_reason *why)
{
	enum resolver_reason w;

	return order(r, a, b, NULL, why != NULL ? why : &w);
}

void resolver_get_stats(const struct resolver *r, struct resolver_stats *st)
{
	*st = r->stats;
}
