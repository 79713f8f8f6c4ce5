#include "base/list.h"
#include "testlib.h"

struct item {
	int v;
	struct list_node node;
};

START_TEST(test_list_keeps_order_and_survives_removal_while_iterating)
{
	struct list_node head = LIST_HEAD_INIT(head);
	struct item items[5];
	struct list_node *pos, *tmp;
	int want = 0;

	ck_assert(list_is_empty(&head));
	for (int i = 0; i < 5; i++) {
		items[i].v = i;
		list_init(&items[i].node);
		ck_assert(!list_is_linked(&items[i].node));
		list_push_back(&head, &items[i].node);
	}
	list_for_each(pos, &head) {
		ck_assert_int_eq(list_entry(pos, struct item, node)->v, want++);
	}
	ck_assert_int_eq(want, 5);
	list_for_each_safe(pos, tmp, &head) {
		struct item *it = list_entry(pos, struct item, node);
		if (it->v % 2 == 0) {
			list_remove(pos);
			ck_assert(!list_is_linked(pos));
		}
	}
	ck_assert_int_eq(list_entry(list_first(&head), struct item, node)->v, 1);
	list_push_front(&head, &items[0].node);
	ck_assert_int_eq(list_entry(list_first(&head), struct item, node)->v, 0);
	list_remove(&items[0].node);
	list_remove(&items[1].node);
	list_remove(&items[3].node);
	ck_assert(list_is_empty(&head));
	ck_assert_ptr_null(list_first(&head));
}
END_TEST

static Suite *list_suite(void)
{
	Suite *s = suite_create("list");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_list_keeps_order_and_survives_removal_while_iterating);
	suite_add_tcase(s, tc);
	return s;
}
TEST_SUITE(list_suite)
