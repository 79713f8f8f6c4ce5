/*
 * list.h - intrusive circular doubly linked lists.
 *
 * Embed a struct list_node in the element; a struct list_node also serves
 * as the head.  An empty list's head points at itself.  A node that is not
 * on any list should be initialised with list_init() so that
 * list_is_linked() is meaningful.
 */
#ifndef CETCD_BASE_LIST_H
#define CETCD_BASE_LIST_H

#include <stdbool.h>
#include <stddef.h>

struct list_node {
	struct list_node *next;
	struct list_node *prev;
};

#define LIST_HEAD_INIT(name)                                                   \
	{                                                                      \
		&(name), &(name)                                               \
	}

#define container_of(ptr, type, member)                                        \
	((type *)((char *)(ptr)-offsetof(type, member)))

static inline void list_init(struct list_node *n)
{
	n->next = n;
	n->prev = n;
}

static inline bool list_is_empty(const struct list_node *head)
{
	return head->next == head;
}

/* True when n is on a list (after list_init it is not). */
static inline bool list_is_linked(const struct list_node *n)
{
	return n->next != n;
}

static inline void list_insert_between_(struct list_node *n,
					struct list_node *prev,
					struct list_node *next)
{
	n->prev = prev;
	n->next = next;
	prev->next = n;
	next->prev = n;
}

static inline void list_push_back(struct list_node *head, struct list_node *n)
{
	list_insert_between_(n, head->prev, head);
}

static inline void list_push_front(struct list_node *head, struct list_node *n)
{
	list_insert_between_(n, head, head->next);
}

/* Unlink n and re-initialise it. */
static inline void list_remove(struct list_node *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	list_init(n);
}

static inline struct list_node *list_first(const struct list_node *head)
{
	return list_is_empty(head) ? NULL : head->next;
}

#define list_entry(ptr, type, member) container_of(ptr, type, member)

#define list_for_each(pos, head)                                               \
	for ((pos) = (head)->next; (pos) != (head); (pos) = (pos)->next)

/* Safe against removal of pos. */
#define list_for_each_safe(pos, tmp, head)                                     \
	for ((pos) = (head)->next, (tmp) = (pos)->next; (pos) != (head);       \
	     (pos) = (tmp), (tmp) = (pos)->next)

#endif
