/*
 * i18n.h - Chinese by default, English on request. A person's language comes
 * from YINGJI_LANG, then LC_ALL, LC_MESSAGES, LANG: "en*" means English.
 * Strings are written side by side at the call site: L("已恢复", "restored").
 */
#ifndef YINGJI_I18N_H
#define YINGJI_I18N_H

#include <stdbool.h>

bool	i18n_english(void);
#define L(zh, en)	(i18n_english() ? (en) : (zh))

#endif
