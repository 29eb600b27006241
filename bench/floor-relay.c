/*
 * The latency floor of a userspace VXLAN relay, for the benchmark only (never shipped).
 *
 *   floor-relay TAPNAME LOCAL_IPV4 PEER_IPV4 VNI
 *
 * The least any userspace design can do per packet: one epoll wakeup, one read, one sendto
 * (and the reverse), no table, no learning, no offloads, a single fixed peer. Measured in the
 * same run as the kernel's VXLAN and ovnetd, it shows how much of ovnetd's round trip is the
 * cost of leaving the kernel at all on this machine, whatever the language.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define VXLAN_LEN 8

static int open_tap(const char *name) {
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return -1;
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) return -1;
  return fd;
}

static int open_udp(const char *local, struct sockaddr_in *peer, const char *peer_ip) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(4789)};
  if (fd < 0 || inet_pton(AF_INET, local, &a.sin_addr) != 1) return -1;
  if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0) return -1;
  *peer = a;
  if (inet_pton(AF_INET, peer_ip, &peer->sin_addr) != 1) return -1;
  return fd;
}

static void tap_to_udp(int tap, int udp, const struct sockaddr_in *peer, unsigned vni, unsigned char *buf, size_t cap) {
  for (;;) {
    ssize_t n = read(tap, buf + VXLAN_LEN, cap - VXLAN_LEN);
    if (n <= 0) return;
    memset(buf, 0, VXLAN_LEN);
    buf[0] = 0x08;
    buf[4] = vni >> 16, buf[5] = vni >> 8, buf[6] = vni;
    sendto(udp, buf, n + VXLAN_LEN, 0, (const struct sockaddr *)peer, sizeof *peer);
  }
}

static void udp_to_tap(int udp, int tap, unsigned char *buf, size_t cap) {
  for (;;) {
    ssize_t n = recv(udp, buf, cap, 0);
    if (n < 0) return;
    if (n > VXLAN_LEN && (buf[0] & 0x08)) write(tap, buf + VXLAN_LEN, n - VXLAN_LEN);
  }
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: floor-relay TAPNAME LOCAL_IPV4 PEER_IPV4 VNI\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  struct sockaddr_in peer;
  int tap = open_tap(argv[1]);
  int udp = open_udp(argv[2], &peer, argv[3]);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (tap < 0 || udp < 0 || ep < 0) {
    perror("floor-relay");
    return 1;
  }
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = tap};
  epoll_ctl(ep, EPOLL_CTL_ADD, tap, &ev);
  ev.data.fd = udp;
  epoll_ctl(ep, EPOLL_CTL_ADD, udp, &ev);
  unsigned vni = (unsigned)strtoul(argv[4], NULL, 10);
  static unsigned char buf[65536];
  fprintf(stderr, "ready\n");
  for (;;) {
    struct epoll_event evs[2];
    int n = epoll_wait(ep, evs, 2, -1);
    for (int i = 0; i < n; i++) {
      if (evs[i].data.fd == tap) tap_to_udp(tap, udp, &peer, vni, buf, sizeof buf);
      else udp_to_tap(udp, tap, buf, sizeof buf);
    }
  }
}
