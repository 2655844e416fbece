/* control.h - the broker's local control channel (unix socket `control_socket`), used by
 * mqtt-fast-ctl. See control.c for the protocol. */
#ifndef MQTT_FAST_CONTROL_H
#define MQTT_FAST_CONTROL_H

struct broker;

/* Opens the socket named by b->cfg.control_socket ("none" = no channel). A socket another
 * broker answers on, or one that cannot be bound, is logged and skipped: the broker runs
 * without the channel. 0 or -ENOMEM. */
int control_open(struct broker *b);
/* Closes and removes the socket. Safe when never opened. */
void control_close(struct broker *b);

#endif
