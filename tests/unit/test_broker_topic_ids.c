/* test_broker_topic_ids.c - the broker-global MQTT-SN topic id registry. */
#include <errno.h>
#include <stdio.h>

#include "check.h"
#include "topic_ids.h"

#define S(x) (const uint8_t *)(x), (uint16_t)strlen(x)

static void test_assign_is_global_and_stable(void)
{
	struct topic_ids *t = topic_ids_new();
	uint16_t a = 0, b = 0, again = 0;
	CHECK_EQ(topic_ids_assign(t, S("sensors/kitchen/temp"), &a), 0);
	CHECK_EQ(topic_ids_assign(t, S("sensors/hall/temp"), &b), 0);
	CHECK(a != 0 && b != 0 && a != b);
	/* The same name gets the same id, whoever asks. */
	CHECK_EQ(topic_ids_assign(t, S("sensors/kitchen/temp"), &again), 0);
	CHECK_EQ(again, a);
	CHECK_STR(topic_ids_name(t, false, a), "sensors/kitchen/temp");
	CHECK(topic_ids_name(t, false, 999).p == NULL);
	CHECK_EQ(topic_ids_count(t), 2);
	uint16_t found = 0;
	CHECK_EQ(topic_ids_find(t, false, S("sensors/hall/temp"), &found), 1);
	CHECK_EQ(found, b);
	CHECK_EQ(topic_ids_find(t, false, S("nope"), &found), 0);
	CHECK_EQ(topic_ids_assign(t, (const uint8_t *)"", 0, &found), -EINVAL);
	topic_ids_free(t);
}

static void test_predefined_space(void)
{
	struct topic_ids *t = topic_ids_new();
	CHECK_EQ(topic_ids_predefine(t, 1, S("cfg/a")), 0);
	CHECK_EQ(topic_ids_predefine(t, 1, S("cfg/b")), -EEXIST); /* id taken */
	CHECK_EQ(topic_ids_predefine(t, 2, S("cfg/a")), -EEXIST); /* name taken */
	CHECK_EQ(topic_ids_predefine(t, 0, S("cfg/z")), -EINVAL); /* reserved §5.3.11 */
	CHECK_EQ(topic_ids_predefine(t, 0xFFFF, S("cfg/z")), -EINVAL);
	CHECK_STR(topic_ids_name(t, true, 1), "cfg/a");
	/* Separate spaces: a normal id 1 is a different topic. */
	uint16_t id = 0;
	CHECK_EQ(topic_ids_assign(t, S("other"), &id), 0);
	CHECK_EQ(id, 1);
	CHECK_STR(topic_ids_name(t, false, 1), "other");
	CHECK_EQ(topic_ids_find(t, true, S("cfg/a"), &id), 1);
	CHECK_EQ(id, 1);
	topic_ids_free(t);
}

static void test_restore_and_many(void)
{
	struct topic_ids *t = topic_ids_new();
	CHECK_EQ(topic_ids_restore(t, 40, S("kept/40")), 0);
	CHECK_EQ(topic_ids_restore(t, 40, S("kept/other")), -EEXIST);
	uint16_t id = 0;
	CHECK_EQ(topic_ids_assign(t, S("kept/40"), &id), 0);
	CHECK_EQ(id, 40);
	/* New ids continue after restored ones and never collide with them. */
	CHECK_EQ(topic_ids_assign(t, S("new"), &id), 0);
	CHECK_EQ(id, 41);
	char name[32];
	for (int i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "bulk/%d", i);
		CHECK_EQ(topic_ids_assign(t, S(name), &id), 0);
	}
	CHECK_EQ(topic_ids_count(t), 5002);
	snprintf(name, sizeof(name), "bulk/%d", 1234);
	CHECK_EQ(topic_ids_find(t, false, S(name), &id), 1);
	CHECK_STR(topic_ids_name(t, false, id), name);
	topic_ids_free(t);
}

static void test_id_space_exhaustion(void)
{
	struct topic_ids *t = topic_ids_new();
	char name[16];
	uint16_t id = 0;
	int err = 0;
	for (int i = 0; i < 0xFFFE && err == 0; i++) {
		snprintf(name, sizeof(name), "t%d", i);
		err = topic_ids_assign(t, S(name), &id);
	}
	CHECK_EQ(err, 0);
	CHECK_EQ(topic_ids_count(t), 0xFFFE);
	CHECK_EQ(topic_ids_assign(t, S("one-too-many"), &id), -ENOSPC);
	CHECK_EQ(topic_ids_assign(t, S("t7"), &id), 0); /* known names still resolve */
	topic_ids_free(t);
}

int main(void)
{
	test_assign_is_global_and_stable();
	test_predefined_space();
	test_restore_and_many();
	test_id_space_exhaustion();
	return check_report();
}
