/*
 * category.c - the GB/T 20986-2023 categories and subcategories (category.h)
 * and the mapping of the centre's signals onto them. Indexes are stable:
 * entries are only ever appended (the database stores indexes).
 */
#include "incident/category.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#include "core/i18n.h"
#include "core/banned.h"

#define N(a)	(sizeof(a) / sizeof((a)[0]))

static const struct gbt_subcategory malware[] = {
	{ "virus", "计算机病毒事件", "Computer virus" },
	{ "worm", "蠕虫事件", "Worm" },
	{ "trojan", "特洛伊木马事件", "Trojan horse" },
	{ "botnet", "僵尸网络事件", "Botnet" },
	{ "ransomware", "勒索软件事件", "Ransomware" },
	{ "cryptominer", "挖矿病毒事件", "Cryptomining malware" },
	{ "hybrid", "混合程序攻击事件", "Blended malware attack" },
	{ "malicious_web_code", "恶意代码内嵌网页事件", "Malicious code embedded in web pages" },
	{ "malware_host", "恶意代码宿主站点事件", "Malicious code host site" },
	{ "other_malware", "其他恶意程序事件", "Other malware" },
};

static const struct gbt_subcategory network_attack[] = {
	{ "scan", "网络扫描探测事件", "Network scanning and probing" },
	{ "phishing", "网络钓鱼事件", "Phishing" },
	{ "exploit", "漏洞利用事件", "Vulnerability exploitation" },
	{ "backdoor_use", "后门利用事件", "Backdoor use" },
	{ "backdoor_implant", "后门植入事件", "Backdoor implant" },
	{ "credential_attack", "凭据攻击事件", "Credential attack" },
	{ "jamming", "信号干扰事件", "Signal jamming" },
	{ "dos", "拒绝服务事件", "Denial of service" },
	{ "web_tamper", "网页篡改事件", "Web page tampering" },
	{ "hidden_link", "暗链植入事件", "Hidden link implant" },
	{ "domain_hijack", "域名劫持事件", "Domain hijacking" },
	{ "domain_transfer", "域名转嫁事件", "Domain transfer fraud" },
	{ "dns_poisoning", "DNS污染事件", "DNS poisoning" },
	{ "wlan_hijack", "WLAN劫持事件", "WLAN hijacking" },
	{ "traffic_hijack", "流量劫持事件", "Traffic hijacking" },
	{ "bgp_hijack", "BGP劫持攻击事件", "BGP hijacking" },
	{ "broadcast_fraud", "广播欺诈事件", "Broadcast spoofing" },
	{ "compromised_host", "失陷主机事件", "Compromised host" },
	{ "supply_chain", "供应链攻击事件", "Supply-chain attack" },
	{ "apt", "APT攻击事件", "APT attack" },
	{ "other_attack", "其他网络攻击事件", "Other network attack" },
};

static const struct gbt_subcategory data_security[] = {
	{ "data_tamper", "数据篡改事件", "Data tampering" },
	{ "data_forgery", "数据假冒事件", "Data forgery" },
	{ "data_leak", "数据泄露事件", "Data leak" },
	{ "social_engineering", "社会工程事件", "Social engineering" },
	{ "data_theft", "数据窃取事件", "Data theft" },
	{ "data_interception", "数据拦截事件", "Data interception" },
	{ "location_detection", "位置检测事件", "Location detection" },
	{ "data_poisoning", "数据投毒事件", "Data poisoning" },
	{ "data_abuse", "数据滥用事件", "Data abuse" },
	{ "privacy_violation", "隐私侵犯事件", "Privacy violation" },
	{ "data_loss", "数据损失事件", "Data loss" },
	{ "other_data", "其他数据安全事件", "Other data security" },
};

static const struct gbt_subcategory content_security[] = {
	{ "illegal_content", "违反宪法和法律、行政法规的信息安全事件",
		"Content violating the Constitution, laws or regulations" },
	{ "public_opinion", "针对社会事项进行讨论、评论形成网上敏感的舆论热点的信息安全事件",
		"Sensitive online public-opinion hot spot" },
	{ "incitement", "组织串连、煽动集会游行的信息安全事件",
		"Organising or inciting gatherings" },
	{ "other_content", "其他信息内容安全事件", "Other information content" },
};

static const struct gbt_subcategory facility_fault[] = {
	{ "technical_fault", "技术故障事件", "Technical fault (software or hardware)" },
	{ "support_facility", "配套设施故障事件", "Supporting facility fault" },
	{ "physical_damage", "物理安全事件", "Physical damage" },
	{ "other_fault", "其他设备设施故障事件", "Other equipment or facility fault" },
};

static const struct gbt_subcategory violation[] = {
	{ "privilege_abuse", "权限滥用事件", "Privilege abuse" },
	{ "privilege_forgery", "权限伪造事件", "Privilege forgery" },
	{ "repudiation", "行为抵赖事件", "Repudiation" },
	{ "deliberate_violation", "故意违规操作事件", "Deliberate violation" },
	{ "mistake", "误操作事件", "Operating mistake" },
	{ "unauthorised_use", "资源未授权使用事件", "Unauthorised use of resources" },
	{ "copyright", "版权违反事件", "Copyright violation" },
	{ "other_violation", "其他违规操作事件", "Other violation" },
};

static const struct gbt_subcategory hazard[] = {
	{ "vulnerability", "网络安全漏洞事件", "Security vulnerability" },
	{ "misconfiguration", "安全配置隐患事件", "Security misconfiguration" },
	{ "other_hazard", "其他安全隐患事件", "Other security hazard" },
};

static const struct gbt_subcategory abnormal[] = {
	{ "access_anomaly", "访问异常事件", "Abnormal access" },
	{ "traffic_anomaly", "流量异常事件", "Abnormal traffic" },
	{ "other_abnormal", "其他异常行为事件", "Other abnormal behaviour" },
};

static const struct gbt_subcategory force_majeure[] = {
	{ "natural_disaster", "自然灾害事件", "Natural disaster" },
	{ "accident", "事故灾难事件", "Accident" },
	{ "public_health", "公共卫生事件", "Public health" },
	{ "social_security", "社会安全事件", "Social security" },
	{ "other_force", "其他不可抗力事件", "Other force majeure" },
};

static const struct gbt_subcategory other[] = {
	{ "other", "其他事件", "Other" },
};

const struct gbt_category gbt_categories[] = {
	[GBT_MALWARE] = { "malware", "恶意程序事件", "Malware", malware, N(malware) },
	[GBT_NETWORK_ATTACK] = { "network_attack", "网络攻击事件", "Network attack", network_attack,
		N(network_attack) },
	[GBT_DATA_SECURITY] = { "data_security", "数据安全事件", "Data security", data_security,
		N(data_security) },
	[GBT_CONTENT_SECURITY] = { "content_security", "信息内容安全事件",
		"Information content security", content_security, N(content_security) },
	[GBT_FACILITY_FAULT] = { "facility_fault", "设备设施故障事件",
		"Equipment and facility fault", facility_fault, N(facility_fault) },
	[GBT_VIOLATION] = { "violation", "违规操作事件", "Violation of rules", violation,
		N(violation) },
	[GBT_HAZARD] = { "hazard", "安全隐患事件", "Security hazard", hazard, N(hazard) },
	[GBT_ABNORMAL] = { "abnormal", "异常行为事件", "Abnormal behaviour", abnormal, N(abnormal) },
	[GBT_FORCE_MAJEURE] = { "force_majeure", "不可抗力事件", "Force majeure", force_majeure,
		N(force_majeure) },
	[GBT_OTHER] = { "other", "其他事件", "Other", other, N(other) },
};
const size_t gbt_ncategories = N(gbt_categories);

int
gbt_category_find(const char *name)
{
	if (name == NULL)
		return -1;
	for (size_t i = 0; i < gbt_ncategories; i++) {
		if (strcmp(name, gbt_categories[i].key) == 0 || strcmp(name, gbt_categories[i].zh) == 0)
			return (int)i;
	}
	return -1;
}

int
gbt_subcategory_find(int category, const char *name)
{
	const struct gbt_category *c;

	if (name == NULL || category < 0 || (size_t)category >= gbt_ncategories)
		return -1;
	c = &gbt_categories[category];
	for (size_t i = 0; i < c->nsubs; i++) {
		if (strcmp(name, c->subs[i].key) == 0 || strcmp(name, c->subs[i].zh) == 0)
			return (int)i;
	}
	return -1;
}

static const struct gbt_subcategory *
sub_at(int category, int subcategory)
{
	if (category < 0 || (size_t)category >= gbt_ncategories || subcategory < 0 ||
		(size_t)subcategory >= gbt_categories[category].nsubs)
		return NULL;
	return &gbt_categories[category].subs[subcategory];
}

const char *
gbt_category_name(int category)
{
	if (category < 0 || (size_t)category >= gbt_ncategories)
		return "?";
	return L(gbt_categories[category].zh, gbt_categories[category].en);
}

const char *
gbt_subcategory_name(int category, int subcategory)
{
	const struct gbt_subcategory *s = sub_at(category, subcategory);

	return s != NULL ? L(s->zh, s->en) : "?";
}

const char *
gbt_category_key(int category)
{
	if (category < 0 || (size_t)category >= gbt_ncategories)
		return "?";
	return gbt_categories[category].key;
}

const char *
gbt_subcategory_key(int category, int subcategory)
{
	const struct gbt_subcategory *s = sub_at(category, subcategory);

	return s != NULL ? s->key : "?";
}

static void
class_set(struct gbt_class *ret, int category, const char *subkey)
{
	ret->category = category;
	ret->subcategory = gbt_subcategory_find(category, subkey);
	if (ret->subcategory < 0)
		ret->subcategory = (int)gbt_categories[category].nsubs - 1;
}

int
gbt_classify_event(const char *type, const char *content_category, struct gbt_class *ret)
{
	if (type == NULL)
		return -ENOENT;
	if (strcmp(type, "tamper") == 0 || strcmp(type, "drift") == 0 ||
		strcmp(type, "tamper_persistent") == 0) {
		/* Tampered content carrying a hidden link is 暗链植入; other
		 * harmful content is still a tamper of the portal first (the
		 * content category rides along in the incident's timeline). */
		if (content_category != NULL && strcmp(content_category, "hidden_link") == 0)
			class_set(ret, GBT_NETWORK_ATTACK, "hidden_link");
		else
			class_set(ret, GBT_NETWORK_ATTACK, "web_tamper");
		return 0;
	}
	if (strcmp(type, "content_blocked") == 0) {
		/* Harmful content stopped before it went online: an information
		 * content incident (attempted), graded by the plan. */
		class_set(ret, GBT_CONTENT_SECURITY, "illegal_content");
		return 0;
	}
	if (strcmp(type, "agent_lost") == 0 || strcmp(type, "service_down") == 0) {
		class_set(ret, GBT_FACILITY_FAULT, "technical_fault");
		return 0;
	}
	return -ENOENT;
}

struct title_class {
	const char	*needle;	/* case-insensitive, in the rule's title */
	int		 category;
	const char	*sub;
};

/* Yingji's own rules say what they detect in their titles; public Sigma
 * rules mostly do too. First match wins. */
static const struct title_class title_classes[] = {
	{ "brute force", GBT_NETWORK_ATTACK, "credential_attack" },
	{ "password spraying", GBT_NETWORK_ATTACK, "credential_attack" },
	{ "failed login", GBT_NETWORK_ATTACK, "credential_attack" },
	{ "sql injection", GBT_NETWORK_ATTACK, "exploit" },
	{ "xss", GBT_NETWORK_ATTACK, "exploit" },
	{ "cross-site", GBT_NETWORK_ATTACK, "exploit" },
	{ "path traversal", GBT_NETWORK_ATTACK, "exploit" },
	{ "file inclusion", GBT_NETWORK_ATTACK, "exploit" },
	{ "webshell", GBT_NETWORK_ATTACK, "backdoor_use" },
	{ "scanner", GBT_NETWORK_ATTACK, "scan" },
	{ "denial of service", GBT_NETWORK_ATTACK, "dos" },
	{ "ransom", GBT_MALWARE, "ransomware" },
	{ "miner", GBT_MALWARE, "cryptominer" },
	{ "trojan", GBT_MALWARE, "trojan" },
	{ "sudo", GBT_VIOLATION, "privilege_abuse" },
	{ "privileged user", GBT_VIOLATION, "privilege_abuse" },
	{ "log or shell history cleared", GBT_VIOLATION, "deliberate_violation" },
	{ "cleared", GBT_VIOLATION, "deliberate_violation" },
	{ "exfiltration", GBT_DATA_SECURITY, "data_theft" },
};

void
gbt_classify_alert(const char *rule_id, const char *title, struct gbt_class *ret)
{
	(void)rule_id;
	for (size_t i = 0; title != NULL && i < N(title_classes); i++) {
		if (strcasestr(title, title_classes[i].needle) != NULL) {
			class_set(ret, title_classes[i].category, title_classes[i].sub);
			return;
		}
	}
	class_set(ret, GBT_NETWORK_ATTACK, "other_attack");
}
