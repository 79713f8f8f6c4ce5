/*
 * snapcopy.c - consistent store copies on a thread (snapcopy.h).
 *
 * Each copy owns a thread, an unnamed file and a pipe: the thread writes
 * the copy, records its result in the struct and writes one byte to the
 * pipe; the loop's read event on the other end joins the thread and calls
 * fn.  The struct is written by the thread only before that byte, and read
 * by the loop only after it (or after pthread_join), so no lock is needed.
 */
#include "server/snapcopy.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/mem.h"
#include "mvcc/mvcc.h"

struct snapcopy {
	struct list_node node; /* the owner's set */
	pthread_t thread;
	bool joined;
	int pipe[2];
	struct event *ev;
	struct mvcc_store *store;
	int fd;
	int err; /* written by the thread before its byte */
	uint64_t size;
	snapcopy_fn fn;
	void *arg;
};

static void *copy_thread(void *arg)
{
	struct snapcopy *c = arg;
	struct stat st;
	char b = 1;
	ssize_t n;

	c->err = mvcc_copy_fd(c->store, c->fd);
	if (c->err >= 0) {
		if (fstat(c->fd, &st) < 0) {
			c->err = -errno;
		} else {
			c->size = (uint64_t)st.st_size;
		}
	}
	do {
		n = write(c->pipe[1], &b, 1);
	} while (n < 0 && errno == EINTR);
	return NULL;
}

static void copy_release(struct snapcopy *c)
{
	if (!c->joined) {
		pthread_join(c->thread, NULL);
		c->joined = true;
	}
	list_remove(&c->node);
	if (c->ev != NULL) {
		event_free(c->ev);
	}
	close(c->pipe[0]);
	close(c->pipe[1]);
	mem_free(c);
}

static void done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct snapcopy *c = arg;
	snapcopy_fn fn = c->fn;
	void *fn_arg = c->arg;
	int err, out_fd;
	uint64_t size;

	(void)fd;
	(void)what;
	if (!c->joined) {
		pthread_join(c->thread, NULL);
		c->joined = true;
	}
	err = c->err;
	size = c->size;
	out_fd = c->fd;
	c->fd = -1;
	copy_release(c);
	if (fn == NULL || err < 0) {
		close(out_fd);
		out_fd = -1;
	}
	if (fn != NULL) {
		fn(fn_arg, err, out_fd, err < 0 ? 0 : size);
	}
}

/* An unnamed file in dir: O_TMPFILE, or a named one unlinked at once. */
static int open_unnamed(const char *dir)
{
	char path[4096];
	int fd;

	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0) {
		return fd;
	}
	if (snprintf(path, sizeof(path), "%s/snapcopy.XXXXXX", dir) >=
	    (int)sizeof(path)) {
		return -ENAMETOOLONG;
	}
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0) {
		return -errno;
	}
	(void)unlink(path);
	return fd;
}

int snapcopy_start(struct event_base *base, struct list_node *set,
		   struct mvcc_store *s, const char *dir, snapcopy_fn fn,
		   void *arg, struct snapcopy **out)
{
	struct snapcopy *c = mem_calloc(1, sizeof(*c));
	int r;

	if (c == NULL) {
		return -ENOMEM;
	}
	list_init(&c->node);
	c->store = s;
	c->fn = fn;
	c->arg = arg;
	c->pipe[0] = c->pipe[1] = -1;
	c->fd = open_unnamed(dir);
	if (c->fd < 0) {
		r = c->fd;
		mem_free(c);
		return r;
	}
	if (pipe2(c->pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		r = -errno;
		close(c->fd);
		mem_free(c);
		return r;
	}
	c->ev = event_new(base, c->pipe[0], EV_READ, done_cb, c);
	if (c->ev == NULL || event_add(c->ev, NULL) < 0) {
		r = -ENOMEM;
		goto fail;
	}
	r = -pthread_create(&c->thread, NULL, copy_thread, c);
	if (r < 0) {
		goto fail;
	}
	list_push_back(set, &c->node);
	if (out != NULL) {
		*out = c;
	}
	return 0;
fail:
	c->joined = true;
	close(c->fd);
	copy_release(c);
	return r;
}

void snapcopy_cancel(struct snapcopy *c)
{
	if (c != NULL) {
		c->fn = NULL;
	}
}

void snapcopy_wait_all(struct list_node *set)
{
	struct list_node *pos;

	list_for_each(pos, set)
	{
		struct snapcopy *c = container_of(pos, struct snapcopy, node);
		if (!c->joined) {
			pthread_join(c->thread, NULL);
			c->joined = true;
		}
	}
}

void snapcopy_free_all(struct list_node *set)
{
	struct list_node *pos, *tmp;

	list_for_each_safe(pos, tmp, set)
	{
		struct snapcopy *c = container_of(pos, struct snapcopy, node);
		if (!c->joined) {
			pthread_join(c->thread, NULL);
			c->joined = true;
		}
		if (c->fd >= 0) {
			close(c->fd);
		}
		copy_release(c);
	}
}
