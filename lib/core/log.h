/*
 * log.h - structured log lines on stderr: "<time> <level> <component>: <message>".
 * lib/ never logs above debug; programs log where they handle an error, once.
 * Never pass a secret to these functions.
 */
#ifndef YINGJI_LOG_H
#define YINGJI_LOG_H

enum log_level { LOG_ERR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };

void	log_set_level(enum log_level level);
enum log_level log_get_level(void);
void	log_msg(enum log_level level, const char *component, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_error(comp, ...)	log_msg(LOG_ERR, comp, __VA_ARGS__)
#define log_warn(comp, ...)	log_msg(LOG_WARN, comp, __VA_ARGS__)
#define log_info(comp, ...)	log_msg(LOG_INFO, comp, __VA_ARGS__)
#define log_debug(comp, ...)	log_msg(LOG_DEBUG, comp, __VA_ARGS__)

#endif
