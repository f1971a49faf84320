/* duet/list.h — intrusive doubly linked lists.
 *
 * The node lives inside the object it links, so linking never allocates. A
 * list head is a node that points to itself when empty. A node that is on no
 * list should be initialised (points to itself) so duet_list_unlink() on it is
 * harmless.
 */
#ifndef DUET_LIST_H
#define DUET_LIST_H

#include <stdbool.h>
#include <stddef.h>

struct duet_list {
	struct duet_list *next;
	struct duet_list *prev;
};

#define duet_container_of(ptr, type, member)                                   \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

static inline void duet_list_init(struct duet_list *l)
{
	l->next = l;
	l->prev = l;
}

static inline bool duet_list_empty(const struct duet_list *l)
{
	return l->next == l;
}

static inline void duet_list_insert_tail(struct duet_list *head,
					 struct duet_list *n)
{
	n->prev = head->prev;
	n->next = head;
	head->prev->next = n;
	head->prev = n;
}

static inline void duet_list_insert_head(struct duet_list *head,
					 struct duet_list *n)
{
	n->next = head->next;
	n->prev = head;
	head->next->prev = n;
	head->next = n;
}

static inline void duet_list_unlink(struct duet_list *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	duet_list_init(n);
}

/* Moves every node of `from` to the empty list `to`, leaving `from` empty. */
static inline void duet_list_move_all(struct duet_list *from,
				      struct duet_list *to)
{
	if (duet_list_empty(from)) {
		duet_list_init(to);
		return;
	}
	to->next = from->next;
	to->prev = from->prev;
	to->next->prev = to;
	to->prev->next = to;
	duet_list_init(from);
}

#define duet_list_foreach(pos, head)                                           \
	for ((pos) = (head)->next; (pos) != (head); (pos) = (pos)->next)

#endif
