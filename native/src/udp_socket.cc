#include "udp_socket.h"

#include <arpa/inet.h>
#include <linux/filter.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

namespace ovnet {

uint16_t SockAddr::port() const {
  return ntohs(family() == AF_INET6 ? u.in6.sin6_port : u.in4.sin_port);
}

bool MakeSockAddr(const std::string& address, uint32_t port, SockAddr* out) {
  std::memset(&out->u, 0, sizeof out->u);
  out->len = 0;
  if (port > 65535) return false;
  if (inet_pton(AF_INET, address.c_str(), &out->u.in4.sin_addr) == 1) {
    out->u.in4.sin_family = AF_INET;
    out->u.in4.sin_port = htons(static_cast<uint16_t>(port));
    out->len = sizeof(sockaddr_in);
    return true;
  }
  if (inet_pton(AF_INET6, address.c_str(), &out->u.in6.sin6_addr) == 1) {
    out->u.in6.sin6_family = AF_INET6;
    out->u.in6.sin6_port = htons(static_cast<uint16_t>(port));
    out->len = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

// SO_*BUFFORCE passes net.core.[rw]mem_max when we hold CAP_NET_ADMIN; otherwise the plain
// option is clamped to that maximum, which is still the best we can get.
static void SetBuffer(int fd, int forceOption, int option, int size) {
  if (size <= 0) return;
  if (setsockopt(fd, SOL_SOCKET, forceOption, &size, sizeof size) == 0) return;
  setsockopt(fd, SOL_SOCKET, option, &size, sizeof size);
}

static bool AttachDropAll(int fd) {
  sock_filter code[] = {{BPF_RET | BPF_K, 0, 0, 0}};
  sock_fprog prog;
  prog.len = 1;
  prog.filter = code;
  return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) == 0;
}

static void CloseKeepErrno(int fd) {
  int err = errno;
  ::close(fd);
  errno = err;
}

int OpenUdpSocket(const SockAddr& local, const SocketSpec& spec, const char** failed) {
  int fd = socket(local.family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *failed = "socket";
    return -1;
  }
  int one = 1;
  if (local.family() == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) < 0) {
    *failed = "setsockopt(IPV6_V6ONLY)";
    CloseKeepErrno(fd);
    return -1;
  }
  // Attached before bind so that not one datagram is queued on a send-only socket.
  if (spec.dropAll && !AttachDropAll(fd)) {
    *failed = "setsockopt(SO_ATTACH_FILTER)";
    CloseKeepErrno(fd);
    return -1;
  }
  if (spec.reusePort && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) {
    *failed = "setsockopt(SO_REUSEPORT)";
    CloseKeepErrno(fd);
    return -1;
  }
  SetBuffer(fd, SO_RCVBUFFORCE, SO_RCVBUF, spec.rcvbuf);
  SetBuffer(fd, SO_SNDBUFFORCE, SO_SNDBUF, spec.sndbuf);
  if (bind(fd, &local.u.sa, local.len) < 0) {
    *failed = "bind";
    CloseKeepErrno(fd);
    return -1;
  }
  return fd;
}

static bool Contains(const std::vector<uint16_t>& v, uint16_t x) {
  for (uint16_t y : v)
    if (y == x) return true;
  return false;
}

static void ClosePool(std::vector<int>* fds, std::vector<uint16_t>* ports) {
  int err = errno;
  for (int fd : *fds) ::close(fd);
  fds->clear();
  ports->clear();
  errno = err;
}

bool OpenSourcePool(const SockAddr& local, uint32_t count, int sndbuf, std::vector<int>* fds,
                    std::vector<uint16_t>* ports, const char** failed) {
  std::random_device seed;
  std::mt19937 rng(seed());
  std::uniform_int_distribution<int> pick(kSourcePortMin, kSourcePortMax);
  SocketSpec spec;
  spec.sndbuf = sndbuf;
  spec.dropAll = true;
  // Enough attempts that a busy range is unlikely to fail us, few enough to end quickly.
  int attemptsLeft = 64 * static_cast<int>(count) + 256;
  while (fds->size() < count) {
    uint16_t port = static_cast<uint16_t>(pick(rng));
    if (Contains(*ports, port)) continue;
    SockAddr addr = local;
    if (addr.family() == AF_INET6) {
      addr.u.in6.sin6_port = htons(port);
    } else {
      addr.u.in4.sin_port = htons(port);
    }
    int fd = OpenUdpSocket(addr, spec, failed);
    if (fd >= 0) {
      fds->push_back(fd);
      ports->push_back(port);
      continue;
    }
    if (errno != EADDRINUSE || --attemptsLeft <= 0) {
      ClosePool(fds, ports);
      return false;
    }
  }
  return true;
}

int EffectiveBuffer(int fd, int option) {
  int size = 0;
  socklen_t len = sizeof size;
  if (getsockopt(fd, SOL_SOCKET, option, &size, &len) < 0) return -1;
  return size;
}

uint16_t BoundPort(int fd) {
  SockAddr a;
  a.len = sizeof a.u;
  if (getsockname(fd, &a.u.sa, &a.len) < 0) return 0;
  return a.port();
}

}  // namespace ovnet
