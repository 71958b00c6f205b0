/*
 * category.h - the ten incident categories of GB/T 20986-2023 (信息安全技术
 * 网络安全事件分类分级指南) and their subcategories, and how the centre's
 * signals (guard events, agent liveness, Sigma alerts) map onto them.
 *
 * Categories and subcategories are referred to by their index in the tables
 * here (stable: new entries are only ever appended) and, in files and JSON,
 * by their Chinese name or a stable English key ("network_attack",
 * "web_tamper"). The names follow the standard's wording as we read it; the
 * standard's own classification codes (its Annex B) are not reproduced.
 */
#ifndef YINGJI_INCIDENT_CATEGORY_H
#define YINGJI_INCIDENT_CATEGORY_H

#include <stddef.h>

struct gbt_subcategory {
	const char	*key;		/* "web_tamper" */
	const char	*zh;		/* "网页篡改事件" */
	const char	*en;		/* "Web page tampering" */
};

struct gbt_category {
	const char	*key;		/* "network_attack" */
	const char	*zh;		/* "网络攻击事件" */
	const char	*en;		/* "Network attack" */
	const struct gbt_subcategory *subs;
	size_t		 nsubs;		/* the last is always 其他... (other) */
};

extern const struct gbt_category gbt_categories[];
extern const size_t gbt_ncategories;	/* 10 */

/* Category index by key or Chinese name; -1. */
int	gbt_category_find(const char *name);
/* Subcategory index within category by key or Chinese name; -1. */
int	gbt_subcategory_find(int category, const char *name);
/* Names for people (i18n), "?" for a bad index. */
const char *gbt_category_name(int category);
const char *gbt_subcategory_name(int category, int subcategory);
const char *gbt_category_key(int category);
const char *gbt_subcategory_key(int category, int subcategory);

/* Well-known indexes the centre uses. */
enum {
	GBT_MALWARE = 0, GBT_NETWORK_ATTACK, GBT_DATA_SECURITY, GBT_CONTENT_SECURITY,
	GBT_FACILITY_FAULT, GBT_VIOLATION, GBT_HAZARD, GBT_ABNORMAL, GBT_FORCE_MAJEURE, GBT_OTHER,
};

/* Where a signal belongs. */
struct gbt_class {
	int	category, subcategory;
};
/* An agent event by its type ("tamper", "agent_lost", "content_blocked"...)
 * and, for tamper events, the content category the inspector found (NULL:
 * none; "keyword" or "hidden_link"). Returns 0 and fills *ret, or -ENOENT
 * when the event type is not an incident signal. */
int	gbt_classify_event(const char *type, const char *content_category, struct gbt_class *ret);
/* A Sigma alert by its rule id and title (and level): Yingji's own rules by
 * id, others by what the title says (sql injection, brute force, webshell,
 * scanner ...), else 网络攻击事件/其他网络攻击事件. */
void	gbt_classify_alert(const char *rule_id, const char *title, struct gbt_class *ret);

#endif
