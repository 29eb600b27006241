// Outgoing datagrams of one source socket gathered into sendmmsg messages, where consecutive
// datagrams to the same peer share one UDP GSO message (a UDP_SEGMENT cmsg with the size of
// the first; a shorter datagram ends the message). The kernel then builds one large packet
// and splits it as late as possible (in the NIC, or not at all over veth), which is what
// removes the per-datagram cost. Datagrams are described by up to two byte ranges (segment
// headers from this batcher's arena, payload in the caller's buffer): no payload is copied.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <vector>

#include "udp_socket.h"

namespace ovnet {

struct GsoStats {
  uint64_t packets = 0, bytes = 0, errors = 0, messages = 0, gsoMessages = 0;
};

class GsoBatcher {
 public:
  // maxDatagram: largest UDP payload that fits the underlay MTU (only those are merged);
  // maxMessage: the most UDP payload one GSO message may carry (65507 IPv4, 65527 IPv6).
  void Configure(uint32_t maxDatagram, uint32_t maxMessage);
  // `failed` marks, per caller position, datagrams that did not go out.
  void Begin(int fd, uint8_t* failed, GsoStats* stats);
  // Space for one segment's headers; valid until the next Flush.
  uint8_t* HeaderSpace(uint32_t n);
  void Add(const SockAddr* to, uint8_t* a, uint32_t alen, const uint8_t* b, uint32_t blen, uint32_t pos);
  // Sends everything queued.
  void Flush();
  // False once the kernel refused a GSO message (no UDP_SEGMENT support on this path):
  // from then on every datagram is its own message.
  bool gsoWorks() const { return gsoOk_; }

 private:
  void CloseMessage();
  void Reserve();

  int fd_ = -1;
  uint8_t* failed_ = nullptr;
  GsoStats* stats_ = nullptr;
  uint32_t maxDatagram_ = 1472, maxMessage_ = 65507;
  bool gsoOk_ = true;

  std::vector<mmsghdr> msgs_;
  std::vector<iovec> iov_;
  std::vector<uint8_t> ctrl_;
  std::vector<uint8_t> arena_;
  std::vector<uint32_t> msgFirst_, msgLast_, msgSegs_, msgBytes_;
  uint32_t nmsg_ = 0, niov_ = 0, arenaUsed_ = 0;

  // The message being filled (index nmsg_ - 1 when open).
  bool open_ = false;
  bool closed_ = false;
  const SockAddr* to_ = nullptr;
  uint32_t segSize_ = 0, segs_ = 0, bytes_ = 0, iovStart_ = 0;
};

}  // namespace ovnet
