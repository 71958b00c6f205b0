/*
 * commands.h - the subcommands of yingji-agent, one file each (cmd_*.c).
 * Each takes argc/argv starting at the subcommand name and returns the exit
 * status: 0 ok, 1 "something changed" where a command says so, 2 error.
 */
#ifndef YINGJI_AGENT_COMMANDS_H
#define YINGJI_AGENT_COMMANDS_H

int	cmd_scan(int argc, char **argv);
int	cmd_run(int argc, char **argv);
int	cmd_status(int argc, char **argv);
int	cmd_publish(int argc, char **argv);
int	cmd_pause(int argc, char **argv);
int	cmd_resume(int argc, char **argv);
int	cmd_events(int argc, char **argv);
int	cmd_evidence(int argc, char **argv);
int	cmd_enroll(int argc, char **argv);

#endif
