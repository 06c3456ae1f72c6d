// The media packet path in C++: what the JavaScript relay does per packet (RFC 7983 demultiplexing,
// SRTP/SRTP-GCM unprotect and protect, RFC 3550 reception statistics, the outbound stream's SSRC,
// sequence and timestamp rewriting, the send) without a JavaScript call, a Buffer or a libuv
// request per packet. It runs on the event loop of the process that loads it (uv_poll on a
// duplicate of the leg's UDP socket, recvmmsg in batches), so there is no thread and no lock: the
// JavaScript side reads and changes a leg's state between two wake-ups.
//
// A "leg" here is one media leg's packet state: one or more UDP sockets it receives on (a WebRTC
// leg has one per ICE host candidate), the one it sends from, its SRTP contexts, counters and
// statistics. A leg forwards the RTP it receives to another leg (link) or hands it to JavaScript
// (taps, echo); everything else (STUN, DTLS, RTCP, packets from unknown sources) goes to the
// JavaScript handler of the leg untouched. The protocol rules mirror packages/media's TypeScript
// (srtp_context.ts, reception_stats.ts, outbound_rtp_stream.ts, rtp_socket_leg.ts): tests run
// both on the same packets.

#define NAPI_VERSION 8
#define OPENSSL_SUPPRESS_DEPRECATED
#include <node_api.h>
#include <uv.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <unordered_map>
#include <vector>

namespace {

constexpr int kBufferSize = 2048;
constexpr int kBatch = 32;
constexpr int kAudio = 0;
constexpr int kDtmf = 1;

inline uint16_t rd16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }
inline uint32_t rd32(const uint8_t* p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}
inline void wr16(uint8_t* p, uint16_t v) {
  p[0] = uint8_t(v >> 8);
  p[1] = uint8_t(v);
}
inline void wr32(uint8_t* p, uint32_t v) {
  p[0] = uint8_t(v >> 24);
  p[1] = uint8_t(v >> 16);
  p[2] = uint8_t(v >> 8);
  p[3] = uint8_t(v);
}

double monotonicMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return double(ts.tv_sec) * 1e3 + double(ts.tv_nsec) / 1e6;
}

double wallMs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return std::floor(double(ts.tv_sec) * 1e3 + double(ts.tv_nsec) / 1e6);
}

uint32_t randomBelow(uint32_t bound) {
  uint32_t value = 0;
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&value), sizeof value) != 1) value = uint32_t(rand());
  return value % bound;
}

/** Offset of the RTP payload, or -1 (rtp_header.ts: rtpPayloadOffset). */
int rtpPayloadOffset(const uint8_t* buf, int length) {
  if (length < 12) return -1;
  uint8_t first = buf[0];
  if (first >> 6 != 2) return -1;
  if (buf[1] >= 192 && buf[1] <= 223) return -1;
  int offset = 12 + (first & 0x0f) * 4;
  if (first & 0x10) {
    if (offset + 4 > length) return -1;
    offset += 4 + rd16(buf + offset + 2) * 4;
  }
  return offset <= length ? offset : -1;
}

// ---------------------------------------------------------------------------------------------
// SRTP (RFC 3711 AES_CM_128_HMAC_SHA1_80/_32, RFC 7714 AEAD_AES_128_GCM), as srtp_context.ts.

/** RFC 3711 §4.3 key derivation, key derivation rate 0. */
bool deriveSessionKey(const uint8_t* masterKey, const uint8_t* masterSalt, uint8_t label,
                      uint8_t* out, int length) {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  if (!ctx) return false;
  bool ok = EVP_EncryptInit_ex(ctx, EVP_aes_128_ecb(), nullptr, masterKey, nullptr) == 1;
  EVP_CIPHER_CTX_set_padding(ctx, 0);
  for (int i = 0; ok && i * 16 < length; i++) {
    uint8_t input[16] = {0};
    memcpy(input, masterSalt, 14);
    input[7] ^= label;
    wr16(input + 14, uint16_t(i));
    uint8_t block[16];
    int outLength = 0;
    ok = EVP_EncryptUpdate(ctx, block, &outLength, input, 16) == 1 && outLength == 16;
    memcpy(out + i * 16, block, std::min(16, length - i * 16));
  }
  EVP_CIPHER_CTX_free(ctx);
  return ok;
}

struct RocState {
  uint32_t roc = 0;
  uint16_t lastSeq = 0;
};

class RocTable {
 public:
  RocState& get(uint32_t ssrc, uint16_t seq) {
    if (last_ != nullptr && lastSsrc_ == ssrc) return *last_;
    auto found = states_.find(ssrc);
    if (found == states_.end()) {
      RocState state;
      state.lastSeq = seq;
      found = states_.emplace(ssrc, state).first;
    }
    lastSsrc_ = ssrc;
    last_ = &found->second;
    return *last_;
  }

  static uint32_t nextSendRoc(RocState& state, uint16_t seq) {
    if (seq < state.lastSeq && state.lastSeq - seq > 0x8000) state.roc++;
    if (seq > state.lastSeq || state.lastSeq - seq > 0x8000) state.lastSeq = seq;
    return state.roc;
  }

  static uint32_t estimate(const RocState& state, uint16_t seq) {
    int last = state.lastSeq;
    if (last < 0x8000) return seq - last > 0x8000 && state.roc > 0 ? state.roc - 1 : state.roc;
    return last - 0x8000 > seq ? state.roc + 1 : state.roc;
  }

  static void accept(RocState& state, uint32_t roc, uint16_t seq) {
    if (roc == state.roc + 1) {
      state.roc = roc;
      state.lastSeq = seq;
    } else if (roc == state.roc && seq > state.lastSeq) {
      state.lastSeq = seq;
    }
  }

  /** The state of `ssrc` as given (a take-over from the JavaScript transform). */
  void set(uint32_t ssrc, uint32_t roc, uint16_t lastSeq) {
    RocState& state = states_[ssrc];
    state.roc = roc;
    state.lastSeq = lastSeq;
    last_ = nullptr;
  }

 private:
  std::unordered_map<uint32_t, RocState> states_;
  uint32_t lastSsrc_ = 0;
  RocState* last_ = nullptr;
};

class Srtp {
 public:
  virtual ~Srtp() = default;
  int overhead = 10;
  /** Encrypts packet[0..length) in place; the buffer has room for the tag. Returns the length. */
  virtual int protect(uint8_t* packet, int length, int payloadOffset) = 0;
  /** Decrypts in place; the plain length, or -1 when authentication fails. */
  virtual int unprotect(uint8_t* packet, int length, int payloadOffset) = 0;
  RocTable rocs;
};

class AesCmHmacSha1 : public Srtp {
 public:
  static std::unique_ptr<Srtp> create(const uint8_t* masterKey, const uint8_t* masterSalt,
                                      int tagLength) {
    std::unique_ptr<AesCmHmacSha1> srtp(new AesCmHmacSha1());
    srtp->overhead = tagLength;
    uint8_t key[16], auth[20];
    if (!deriveSessionKey(masterKey, masterSalt, 0, key, 16) ||
        !deriveSessionKey(masterKey, masterSalt, 1, auth, 20) ||
        !deriveSessionKey(masterKey, masterSalt, 2, srtp->salt_, 14))
      return nullptr;
    srtp->ctr_ = EVP_CIPHER_CTX_new();
    if (!srtp->ctr_ || EVP_EncryptInit_ex(srtp->ctr_, EVP_aes_128_ctr(), nullptr, key, nullptr) != 1)
      return nullptr;
    uint8_t pad[64];
    memset(pad, 0x36, 64);
    for (int i = 0; i < 20; i++) pad[i] ^= auth[i];
    SHA1_Init(&srtp->inner_);
    SHA1_Update(&srtp->inner_, pad, 64);
    memset(pad, 0x5c, 64);
    for (int i = 0; i < 20; i++) pad[i] ^= auth[i];
    SHA1_Init(&srtp->outer_);
    SHA1_Update(&srtp->outer_, pad, 64);
    return srtp;
  }

  ~AesCmHmacSha1() override {
    if (ctr_) EVP_CIPHER_CTX_free(ctr_);
  }

  int protect(uint8_t* packet, int length, int payloadOffset) override {
    uint32_t ssrc = rd32(packet + 8);
    uint16_t seq = rd16(packet + 2);
    uint32_t roc = RocTable::nextSendRoc(rocs.get(ssrc, seq), seq);
    if (!crypt(packet + payloadOffset, length - payloadOffset, ssrc, roc, seq)) return -1;
    uint8_t digest[20];
    sign(packet, length, roc, digest);
    memcpy(packet + length, digest, overhead);
    return length + overhead;
  }

  int unprotect(uint8_t* packet, int length, int payloadOffset) override {
    int plainLength = length - overhead;
    if (plainLength < payloadOffset) return -1;
    uint32_t ssrc = rd32(packet + 8);
    uint16_t seq = rd16(packet + 2);
    RocState& state = rocs.get(ssrc, seq);
    uint32_t roc = RocTable::estimate(state, seq);
    uint8_t digest[20];
    sign(packet, plainLength, roc, digest);
    if (CRYPTO_memcmp(digest, packet + plainLength, overhead) != 0) return -1;
    if (!crypt(packet + payloadOffset, plainLength - payloadOffset, ssrc, roc, seq)) return -1;
    RocTable::accept(state, roc, seq);
    return plainLength;
  }

 private:
  AesCmHmacSha1() = default;

  /** HMAC-SHA1 over the packet and the ROC (RFC 3711 §4.2), from the precomputed pad states. */
  void sign(const uint8_t* packet, int length, uint32_t roc, uint8_t* digest) {
    SHA_CTX ctx = inner_;
    SHA1_Update(&ctx, packet, size_t(length));
    uint8_t rocBytes[4];
    wr32(rocBytes, roc);
    SHA1_Update(&ctx, rocBytes, 4);
    SHA1_Final(digest, &ctx);
    ctx = outer_;
    SHA1_Update(&ctx, digest, 20);
    SHA1_Final(digest, &ctx);
  }

  /** IV = (salt << 16) XOR (SSRC << 64) XOR (index << 16) (RFC 3711 §4.1.1). */
  bool crypt(uint8_t* data, int length, uint32_t ssrc, uint32_t roc, uint16_t seq) {
    if (length <= 0) return true;
    uint8_t iv[16] = {0};
    memcpy(iv, salt_, 14);
    uint8_t word[4];
    wr32(word, ssrc);
    for (int i = 0; i < 4; i++) iv[4 + i] ^= word[i];
    wr32(word, roc);
    for (int i = 0; i < 4; i++) iv[8 + i] ^= word[i];
    iv[12] ^= uint8_t(seq >> 8);
    iv[13] ^= uint8_t(seq);
    int outLength = 0;
    return EVP_EncryptInit_ex(ctr_, nullptr, nullptr, nullptr, iv) == 1 &&
           EVP_EncryptUpdate(ctr_, data, &outLength, data, length) == 1;
  }

  uint8_t salt_[14];
  EVP_CIPHER_CTX* ctr_ = nullptr;
  SHA_CTX inner_, outer_;
};

class AesGcm : public Srtp {
 public:
  static std::unique_ptr<Srtp> create(const uint8_t* sessionKey, const uint8_t* sessionSalt) {
    std::unique_ptr<AesGcm> srtp(new AesGcm());
    srtp->overhead = 16;
    memcpy(srtp->salt_, sessionSalt, 12);
    srtp->enc_ = EVP_CIPHER_CTX_new();
    srtp->dec_ = EVP_CIPHER_CTX_new();
    if (!srtp->enc_ || !srtp->dec_ ||
        EVP_EncryptInit_ex(srtp->enc_, EVP_aes_128_gcm(), nullptr, sessionKey, nullptr) != 1 ||
        EVP_DecryptInit_ex(srtp->dec_, EVP_aes_128_gcm(), nullptr, sessionKey, nullptr) != 1)
      return nullptr;
    return srtp;
  }

  ~AesGcm() override {
    if (enc_) EVP_CIPHER_CTX_free(enc_);
    if (dec_) EVP_CIPHER_CTX_free(dec_);
  }

  int protect(uint8_t* packet, int length, int payloadOffset) override {
    uint32_t ssrc = rd32(packet + 8);
    uint16_t seq = rd16(packet + 2);
    uint32_t roc = RocTable::nextSendRoc(rocs.get(ssrc, seq), seq);
    uint8_t iv[12];
    makeIv(iv, ssrc, roc, seq);
    int outLength = 0;
    uint8_t last[16];
    if (EVP_EncryptInit_ex(enc_, nullptr, nullptr, nullptr, iv) != 1 ||
        EVP_EncryptUpdate(enc_, nullptr, &outLength, packet, payloadOffset) != 1 ||
        EVP_EncryptUpdate(enc_, packet + payloadOffset, &outLength, packet + payloadOffset,
                          length - payloadOffset) != 1 ||
        EVP_EncryptFinal_ex(enc_, last, &outLength) != 1 ||
        EVP_CIPHER_CTX_ctrl(enc_, EVP_CTRL_GCM_GET_TAG, 16, packet + length) != 1)
      return -1;
    return length + 16;
  }

  int unprotect(uint8_t* packet, int length, int payloadOffset) override {
    int plainLength = length - 16;
    if (plainLength < payloadOffset) return -1;
    uint32_t ssrc = rd32(packet + 8);
    uint16_t seq = rd16(packet + 2);
    RocState& state = rocs.get(ssrc, seq);
    uint32_t roc = RocTable::estimate(state, seq);
    uint8_t iv[12];
    makeIv(iv, ssrc, roc, seq);
    // Decrypted into a copy first: a packet that fails authentication stays as it came
    uint8_t plain[kBufferSize];
    int outLength = 0;
    uint8_t last[16];
    if (EVP_DecryptInit_ex(dec_, nullptr, nullptr, nullptr, iv) != 1 ||
        EVP_DecryptUpdate(dec_, nullptr, &outLength, packet, payloadOffset) != 1 ||
        EVP_DecryptUpdate(dec_, plain, &outLength, packet + payloadOffset,
                          plainLength - payloadOffset) != 1 ||
        EVP_CIPHER_CTX_ctrl(dec_, EVP_CTRL_GCM_SET_TAG, 16, packet + plainLength) != 1 ||
        EVP_DecryptFinal_ex(dec_, last, &outLength) != 1)
      return -1;
    memcpy(packet + payloadOffset, plain, size_t(plainLength - payloadOffset));
    RocTable::accept(state, roc, seq);
    return plainLength;
  }

 private:
  AesGcm() = default;

  /** IV = (00 00 || SSRC || ROC || SEQ) XOR salt (RFC 7714 §8.1). */
  void makeIv(uint8_t* iv, uint32_t ssrc, uint32_t roc, uint16_t seq) {
    iv[0] = 0;
    iv[1] = 0;
    wr32(iv + 2, ssrc);
    wr32(iv + 6, roc);
    wr16(iv + 10, seq);
    for (int i = 0; i < 12; i++) iv[i] ^= salt_[i];
  }

  uint8_t salt_[12];
  EVP_CIPHER_CTX* enc_ = nullptr;
  EVP_CIPHER_CTX* dec_ = nullptr;
};

/** Profiles as srtp_context.ts names them: 1 AES-CM-80, 2 AES-CM-32, 7 AEAD-AES-128-GCM. */
std::unique_ptr<Srtp> createSrtp(int profile, const uint8_t* masterKey, const uint8_t* masterSalt) {
  if (profile == 1) return AesCmHmacSha1::create(masterKey, masterSalt, 10);
  if (profile == 2) return AesCmHmacSha1::create(masterKey, masterSalt, 4);
  if (profile == 7) {
    uint8_t key[16], salt[12];
    if (!deriveSessionKey(masterKey, masterSalt, 0, key, 16) ||
        !deriveSessionKey(masterKey, masterSalt, 2, salt, 12))
      return nullptr;
    return AesGcm::create(key, salt);
  }
  return nullptr;
}

// ---------------------------------------------------------------------------------------------
// RFC 3550 A.3 and A.8, as reception_stats.ts.

class Reception {
 public:
  int clockRate = 8000;

  void packet(const uint8_t* packet) {
    uint32_t ssrc = rd32(packet + 8);
    uint16_t seq = rd16(packet + 2);
    uint32_t timestamp = rd32(packet + 4);
    uint32_t arrival = uint32_t(int64_t(std::llround(monotonicMs() * clockRate / 1000)));
    if (ssrc != ssrc_ || !started_) {
      fold();
      started_ = true;
      ssrc_ = ssrc;
      baseSeq_ = seq;
      maxSeq_ = seq;
      cycles_ = 0;
      received_ = 1;
      lastTransit_ = int32_t(arrival - timestamp);
      jitter16_ = 0;
      expectedPrior_ = 0;
      receivedPrior_ = 0;
      return;
    }
    received_++;
    int delta = (int(seq) - int(maxSeq_) + 0x10000) % 0x10000;
    if (delta > 0 && delta < 0x8000) {
      if (seq < maxSeq_) cycles_ += 0x10000;
      maxSeq_ = seq;
    }
    int32_t transit = int32_t(arrival - timestamp);
    int64_t d = std::llabs(int64_t(int32_t(uint32_t(transit) - uint32_t(lastTransit_))));
    lastTransit_ = transit;
    jitter16_ += d - ((jitter16_ + 8) >> 4);
  }

  double expected() const { return doneExpected_ + currentExpected(); }
  double lost() const {
    return doneLost_ + std::max(0.0, currentExpected() - double(received_));
  }
  double received() const { return doneExpected_ - doneLost_ + double(received_); }
  double jitterMs() const { return double(jitter16_) / 16 / clockRate * 1000; }
  double ssrc() const { return started_ ? double(ssrc_) : -1; }

  /** ssrc, fractionLost, cumulativeLost, extendedHighestSeq, jitter (RFC 3550 §6.4.1). */
  void takeReport(double* out) {
    double expected = currentExpected();
    double expectedInterval = expected - expectedPrior_;
    double receivedInterval = double(received_) - receivedPrior_;
    expectedPrior_ = expected;
    receivedPrior_ = double(received_);
    double lostInterval = expectedInterval - receivedInterval;
    out[0] = double(ssrc_);
    out[1] = expectedInterval <= 0 || lostInterval <= 0
                 ? 0
                 : std::floor(lostInterval * 256 / expectedInterval);
    out[2] = expected - double(received_);
    out[3] = double(uint32_t(cycles_ + maxSeq_));
    out[4] = double(jitter16_ >> 4);
  }

 private:
  double currentExpected() const {
    return started_ ? double(cycles_) + maxSeq_ - baseSeq_ + 1 : 0;
  }
  void fold() {
    doneExpected_ += currentExpected();
    if (started_) doneLost_ += std::max(0.0, currentExpected() - double(received_));
  }

  double doneExpected_ = 0, doneLost_ = 0;
  uint32_t ssrc_ = 0;
  bool started_ = false;
  uint16_t baseSeq_ = 0, maxSeq_ = 0;
  int64_t cycles_ = 0;
  uint64_t received_ = 0;
  int32_t lastTransit_ = 0;
  int64_t jitter16_ = 0;
  double expectedPrior_ = 0, receivedPrior_ = 0;
};

// ---------------------------------------------------------------------------------------------
// The outbound stream's SSRC, sequence and timestamps, as outbound_rtp_stream.ts.

class Outbound {
 public:
  uint32_t ssrc = 0;
  double samplesPerMs = 8;

  void restart() { restart_ = true; }
  uint32_t lastTimestamp() const { return lastTs_; }
  double lastSentAt() const { return lastAt_; }

  void rewrite(uint8_t* packet, bool audio) {
    uint32_t sourceSsrc = rd32(packet + 8);
    uint16_t seq = rd16(packet + 2);
    uint32_t ts = rd32(packet + 4);
    double now = wallMs();
    if (restart_ || sourceSsrc != sourceSsrc_ || !haveSource_) {
      rebase(sourceSsrc, seq, ts, now);
      if (audio) packet[1] |= 0x80;
    }
    uint16_t outSeq = uint16_t(seq + seqDelta_);
    uint32_t outTs = ts + tsDelta_;
    wr16(packet + 2, outSeq);
    wr32(packet + 4, outTs);
    wr32(packet + 8, ssrc);
    if (uint16_t(outSeq - lastSeq_) < 0x8000) {
      lastSeq_ = outSeq;
      lastTs_ = outTs;
      lastAt_ = now;
    }
  }

 private:
  void rebase(uint32_t sourceSsrc, uint16_t seq, uint32_t ts, double now) {
    uint16_t nextSeq;
    uint32_t nextTs;
    if (started_) {
      double elapsed = std::max(20 * samplesPerMs, std::round((now - lastAt_) * samplesPerMs));
      nextSeq = uint16_t(lastSeq_ + 1);
      nextTs = lastTs_ + uint32_t(int64_t(elapsed));
    } else {
      nextSeq = uint16_t(randomBelow(0x8000));
      nextTs = randomBelow(0x7fffffff);
      started_ = true;
    }
    seqDelta_ = uint16_t(nextSeq - seq);
    tsDelta_ = nextTs - ts;
    sourceSsrc_ = sourceSsrc;
    haveSource_ = true;
    restart_ = false;
    lastSeq_ = uint16_t(nextSeq - 1);
  }

  uint32_t sourceSsrc_ = 0;
  bool haveSource_ = false;
  bool restart_ = true;
  bool started_ = false;
  uint16_t seqDelta_ = 0;
  uint32_t tsDelta_ = 0;
  uint16_t lastSeq_ = 0;
  uint32_t lastTs_ = 0;
  double lastAt_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Legs and their sockets.

struct Module;
struct Leg;

struct Socket {
  uv_poll_t poll;
  int fd = -1;
  Leg* leg = nullptr;
  Module* module = nullptr;
  /** Its place among the leg's sockets (addSocket order): told to the handler of other packets. */
  int index = 0;
};

/** How a leg filters what it receives: a WebRTC leg takes any source (SRTP authenticates). */
enum class Accept { Any = 0, Peer = 1 };

struct Leg {
  /** Never reused in a process (64 bits: 400 legs a second take millions of years to wrap). */
  int64_t id = 0;
  napi_ref onOther = nullptr;
  napi_ref onRtp = nullptr;
  std::vector<Socket*> sockets;
  int sendFd = -1;

  // Receiving
  Accept accept = Accept::Any;
  sockaddr_storage peer{};
  socklen_t peerLength = 0;
  bool latching = false;
  bool latched = false;
  bool srtpRequired = false;
  std::unique_ptr<Srtp> srtpIn;
  /** The peer's SDES master key identifier (RFC 3711 §3.1), cut out before authentication. */
  std::vector<uint8_t> mki;
  bool mkiAfterTag = false;
  int recvAudioPt = -1;
  int recvDtmfPt = -1;
  Reception reception;
  double packetsReceived = 0;
  double packetsRejected = 0;
  double authenticationFailures = 0;

  // Sending
  bool sendAllowed = false;
  std::unique_ptr<Srtp> srtpOut;
  int sendAudioPt = -1;
  int sendDtmfPt = -1;
  Outbound outbound;
  double packetsSent = 0;
  double octetsSent = 0;
  double sendErrors = 0;

  // Forwarding
  int64_t linkTo = 0;
  bool paused = false;
  double relayed = 0;
};

struct Module {
  napi_env env = nullptr;
  uv_loop_t* loop = nullptr;
  napi_async_context async = nullptr;
  std::unordered_map<int64_t, Leg*> legs;
  int64_t nextId = 1;
  uint8_t buffers[kBatch][kBufferSize];
  sockaddr_storage sources[kBatch];
  iovec iov[kBatch];
  mmsghdr messages[kBatch];
  uint8_t scratch[kBufferSize];
  double wakeups = 0;
  double datagrams = 0;
};

bool samePeer(const Leg& leg, const sockaddr_storage& from, bool& portMatches) {
  if (from.ss_family != leg.peer.ss_family) return false;
  if (from.ss_family == AF_INET) {
    auto* a = reinterpret_cast<const sockaddr_in*>(&from);
    auto* b = reinterpret_cast<const sockaddr_in*>(&leg.peer);
    portMatches = a->sin_port == b->sin_port;
    return a->sin_addr.s_addr == b->sin_addr.s_addr;
  }
  if (from.ss_family == AF_INET6) {
    auto* a = reinterpret_cast<const sockaddr_in6*>(&from);
    auto* b = reinterpret_cast<const sockaddr_in6*>(&leg.peer);
    portMatches = a->sin6_port == b->sin6_port;
    return memcmp(&a->sin6_addr, &b->sin6_addr, sizeof a->sin6_addr) == 0;
  }
  return false;
}

void setPort(sockaddr_storage& address, const sockaddr_storage& from) {
  if (address.ss_family == AF_INET)
    reinterpret_cast<sockaddr_in*>(&address)->sin_port =
        reinterpret_cast<const sockaddr_in*>(&from)->sin_port;
  else if (address.ss_family == AF_INET6)
    reinterpret_cast<sockaddr_in6*>(&address)->sin6_port =
        reinterpret_cast<const sockaddr_in6*>(&from)->sin6_port;
}

/** Sends a plain RTP packet received elsewhere (room for the SRTP tag after it). */
bool sendRelayed(Leg& leg, uint8_t* packet, int length, int payloadOffset, int kind) {
  if (!leg.sendAllowed || leg.sendFd < 0 || leg.peerLength == 0) return false;
  if (leg.srtpRequired && !leg.srtpOut) return false;
  int pt = kind == kAudio ? leg.sendAudioPt : leg.sendDtmfPt;
  if (pt < 0) return false;
  packet[1] = uint8_t((packet[1] & 0x80) | pt);
  leg.outbound.rewrite(packet, kind == kAudio);
  int outLength = length;
  if (leg.srtpOut) {
    outLength = leg.srtpOut->protect(packet, length, payloadOffset);
    if (outLength < 0) return false;
  }
  ssize_t sent = sendto(leg.sendFd, packet, size_t(outLength), 0,
                        reinterpret_cast<const sockaddr*>(&leg.peer), leg.peerLength);
  if (sent < 0) {
    // A full socket buffer or an unreachable peer loses this packet, as a UDP send does
    leg.sendErrors++;
    return false;
  }
  leg.packetsSent++;
  leg.octetsSent += length - payloadOffset;
  return true;
}

napi_value addressString(napi_env env, const sockaddr_storage& from, uint32_t& port) {
  char text[INET6_ADDRSTRLEN] = "";
  if (from.ss_family == AF_INET) {
    auto* a = reinterpret_cast<const sockaddr_in*>(&from);
    inet_ntop(AF_INET, &a->sin_addr, text, sizeof text);
    port = ntohs(a->sin_port);
  } else if (from.ss_family == AF_INET6) {
    auto* a = reinterpret_cast<const sockaddr_in6*>(&from);
    inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof text);
    port = ntohs(a->sin6_port);
  }
  napi_value value;
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &value);
  return value;
}

/** Calls a JavaScript handler from the event loop; an exception becomes an uncaught one. */
void callBack(Module& module, napi_ref ref, size_t argc, napi_value* argv) {
  napi_env env = module.env;
  napi_value fn, global, result;
  if (napi_get_reference_value(env, ref, &fn) != napi_ok || fn == nullptr) return;
  napi_get_global(env, &global);
  napi_status status = napi_make_callback(env, module.async, global, fn, argc, argv, &result);
  if (status == napi_pending_exception) {
    napi_value error;
    napi_get_and_clear_last_exception(env, &error);
    napi_fatal_exception(env, error);
  }
}

void deliverOther(Module& module, Leg& leg, int socketIndex, const uint8_t* data, int length,
                  const sockaddr_storage& from) {
  if (leg.onOther == nullptr) return;
  napi_env env = module.env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value argv[4];
  void* copy;
  napi_create_buffer_copy(env, size_t(length), data, &copy, &argv[0]);
  uint32_t port = 0;
  argv[1] = addressString(env, from, port);
  napi_create_uint32(env, port, &argv[2]);
  napi_create_int32(env, socketIndex, &argv[3]);
  callBack(module, leg.onOther, 4, argv);
  napi_close_handle_scope(env, scope);
}

void deliverRtp(Module& module, Leg& leg, const uint8_t* data, int length, int offset, int kind) {
  napi_env env = module.env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value argv[4];
  void* copy;
  // Room for a tag: JavaScript may send the same buffer on through send()
  napi_create_buffer_copy(env, size_t(length), data, &copy, &argv[0]);
  napi_create_int32(env, length, &argv[1]);
  napi_create_int32(env, offset, &argv[2]);
  napi_create_int32(env, kind, &argv[3]);
  callBack(module, leg.onRtp, 4, argv);
  napi_close_handle_scope(env, scope);
}

void receive(Module& module, Leg& leg, int socketIndex, uint8_t* packet, int length,
             const sockaddr_storage& from) {
  bool rtpOrRtcp = length >= 12 && packet[0] >= 128 && packet[0] <= 191;
  if (!rtpOrRtcp || (packet[1] >= 192 && packet[1] <= 223)) {
    deliverOther(module, leg, socketIndex, packet, length, from);
    return;
  }
  bool latchNow = false;
  if (leg.accept == Accept::Peer) {
    bool portMatches = false;
    if (leg.peerLength == 0 || !samePeer(leg, from, portMatches)) {
      leg.packetsRejected++;
      return;
    }
    if (!portMatches) {
      if (!leg.latching || leg.latched) {
        leg.packetsRejected++;
        return;
      }
      latchNow = true;
    }
  }
  int plainLength = length;
  if (leg.srtpIn) {
    int mkiLength = int(leg.mki.size());
    int offset = rtpPayloadOffset(packet, length - leg.srtpIn->overhead - mkiLength);
    if (offset < 0) return;
    if (mkiLength > 0) {
      // AES-CM: payload | MKI | tag; GCM: payload+tag | MKI (sdes_negotiation.ts SdesReceiver)
      int at = length - (leg.mkiAfterTag ? 0 : leg.srtpIn->overhead) - mkiLength;
      if (at < offset || memcmp(packet + at, leg.mki.data(), size_t(mkiLength)) != 0) {
        leg.authenticationFailures++;
        leg.packetsRejected++;
        return;
      }
      memmove(packet + at, packet + at + mkiLength, size_t(length - at - mkiLength));
      length -= mkiLength;
    }
    plainLength = leg.srtpIn->unprotect(packet, length, offset);
    if (plainLength < 0) {
      leg.authenticationFailures++;
      leg.packetsRejected++;
      return;
    }
  } else if (leg.srtpRequired) {
    return;
  }
  // Latch only to a packet that passed authentication: a forged one must not steal the stream
  if (leg.latching && !leg.latched && leg.accept == Accept::Peer) {
    if (latchNow) setPort(leg.peer, from);
    leg.latched = true;
  }
  int offset = rtpPayloadOffset(packet, plainLength);
  if (offset < 0) return;
  leg.packetsReceived++;
  leg.reception.packet(packet);
  int pt = packet[1] & 0x7f;
  int kind = pt == leg.recvAudioPt ? kAudio : pt == leg.recvDtmfPt ? kDtmf : -1;
  if (kind < 0) return;
  if (leg.linkTo != 0) {
    if (leg.paused) return;
    auto target = module.legs.find(leg.linkTo);
    if (target != module.legs.end() && sendRelayed(*target->second, packet, plainLength, offset, kind))
      leg.relayed++;
  } else if (leg.onRtp != nullptr) {
    deliverRtp(module, leg, packet, plainLength, offset, kind);
  }
}

void onReadable(uv_poll_t* handle, int status, int events) {
  auto* socket = static_cast<Socket*>(handle->data);
  if (status < 0 || !(events & UV_READABLE) || socket->leg == nullptr) return;
  Module& module = *socket->module;
  module.wakeups++;
  // A bounded number of batches per wake-up: other sockets and timers get their turn
  for (int round = 0; round < 4; round++) {
    for (int i = 0; i < kBatch; i++) {
      module.iov[i].iov_base = module.buffers[i];
      // Room for an SRTP tag added on the way out
      module.iov[i].iov_len = kBufferSize - 32;
      memset(&module.messages[i].msg_hdr, 0, sizeof(msghdr));
      module.messages[i].msg_hdr.msg_iov = &module.iov[i];
      module.messages[i].msg_hdr.msg_iovlen = 1;
      module.messages[i].msg_hdr.msg_name = &module.sources[i];
      module.messages[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
    }
    int count = recvmmsg(socket->fd, module.messages, kBatch, MSG_DONTWAIT, nullptr);
    if (count <= 0) return;
    module.datagrams += count;
    for (int i = 0; i < count; i++) {
      // A JavaScript handler may have closed this leg meanwhile
      if (socket->leg == nullptr) return;
      if (module.messages[i].msg_hdr.msg_flags & MSG_TRUNC) continue;
      receive(module, *socket->leg, socket->index, module.buffers[i], int(module.messages[i].msg_len),
              module.sources[i]);
    }
    if (count < kBatch) return;
  }
}

void onSocketClosed(uv_handle_t* handle) {
  auto* socket = static_cast<Socket*>(handle->data);
  if (socket->fd >= 0) close(socket->fd);
  delete socket;
}

void destroyLeg(Module& module, Leg* leg) {
  for (Socket* socket : leg->sockets) {
    socket->leg = nullptr;
    // uv_close stops the poll and forgets the descriptor now (only its callback is deferred):
    // closing our duplicate at once frees the port as soon as the JavaScript socket closes too
    uv_close(reinterpret_cast<uv_handle_t*>(&socket->poll), onSocketClosed);
    close(socket->fd);
    socket->fd = -1;
  }
  leg->sockets.clear();
  leg->sendFd = -1;
  if (leg->onOther) napi_delete_reference(module.env, leg->onOther);
  if (leg->onRtp) napi_delete_reference(module.env, leg->onRtp);
  // Legs linked to this one keep its id: ids are never reused and a packet for an id no longer
  // in `legs` is dropped (receive), so no walk over every open leg here
  module.legs.erase(leg->id);
  delete leg;
}

// ---------------------------------------------------------------------------------------------
// The JavaScript API (packages/media/native_packet_path.ts wraps it).

Module* moduleOf(napi_env env) {
  void* data = nullptr;
  napi_get_instance_data(env, &data);
  return static_cast<Module*>(data);
}

napi_value undefinedValue(napi_env env) {
  napi_value value;
  napi_get_undefined(env, &value);
  return value;
}

bool argInt(napi_env env, napi_value value, int32_t& out) {
  return napi_get_value_int32(env, value, &out) == napi_ok;
}

napi_value throwType(napi_env env, const char* message) {
  napi_throw_type_error(env, nullptr, message);
  return nullptr;
}

bool argId(napi_env env, napi_value value, int64_t& out) {
  return napi_get_value_int64(env, value, &out) == napi_ok;
}

Leg* legArg(napi_env env, napi_value value) {
  int64_t id = 0;
  Module* module = moduleOf(env);
  if (!argId(env, value, id)) return nullptr;
  auto found = module->legs.find(id);
  return found == module->legs.end() ? nullptr : found->second;
}

template <size_t N>
bool getArgs(napi_env env, napi_callback_info info, napi_value (&argv)[N], size_t minimum) {
  size_t argc = N;
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  for (size_t i = argc; i < N; i++) argv[i] = undefinedValue(env);
  return argc >= minimum;
}

bool parseAddress(const char* ip, uint32_t port, sockaddr_storage& out, socklen_t& length) {
  memset(&out, 0, sizeof out);
  auto* v4 = reinterpret_cast<sockaddr_in*>(&out);
  if (inet_pton(AF_INET, ip, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(uint16_t(port));
    length = sizeof(sockaddr_in);
    return true;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&out);
  if (inet_pton(AF_INET6, ip, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(uint16_t(port));
    length = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

/** createLeg(onOther(packet, address, port, socketIndex)) -> id */
napi_value CreateLeg(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  getArgs(env, info, argv, 1);
  napi_valuetype type;
  napi_typeof(env, argv[0], &type);
  if (type != napi_function) return throwType(env, "createLeg needs the handler of other packets");
  Module* module = moduleOf(env);
  auto* leg = new Leg();
  leg->id = module->nextId++;
  napi_create_reference(env, argv[0], 1, &leg->onOther);
  module->legs[leg->id] = leg;
  napi_value result;
  napi_create_int64(env, leg->id, &result);
  return result;
}

/** addSocket(leg, fd, sendsFromIt): reads the socket (a duplicate of fd) from now on. */
napi_value AddSocket(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  getArgs(env, info, argv, 3);
  Leg* leg = legArg(env, argv[0]);
  int32_t fd = -1;
  bool sends = false;
  if (!leg || !argInt(env, argv[1], fd) || fd < 0) return throwType(env, "addSocket(leg, fd, sends)");
  napi_get_value_bool(env, argv[2], &sends);
  Module* module = moduleOf(env);
  // A duplicate: the JavaScript socket keeps its descriptor, ours is closed with the leg. The
  // duplicate shares the socket's O_NONBLOCK (and uv_poll_init_socket sets it again)
  int own = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (own < 0) {
    napi_throw_error(env, nullptr, strerror(errno));
    return nullptr;
  }
  auto* socket = new Socket();
  socket->fd = own;
  socket->leg = leg;
  socket->module = module;
  socket->poll.data = socket;
  socket->index = int(leg->sockets.size());
  if (uv_poll_init_socket(module->loop, &socket->poll, own) != 0 ||
      uv_poll_start(&socket->poll, UV_READABLE, onReadable) != 0) {
    close(own);
    delete socket;
    napi_throw_error(env, nullptr, "uv_poll on the media socket failed");
    return nullptr;
  }
  leg->sockets.push_back(socket);
  // Sent from the same duplicate (closed with the socket, not on its own)
  if (sends) leg->sendFd = own;
  return undefinedValue(env);
}

std::unique_ptr<Srtp> srtpArg(napi_env env, napi_value profileValue, napi_value keyValue,
                              napi_value saltValue, bool& ok) {
  ok = true;
  int32_t profile = 0;
  argInt(env, profileValue, profile);
  if (profile == 0) return nullptr;
  void* key = nullptr;
  void* salt = nullptr;
  size_t keyLength = 0, saltLength = 0;
  bool isBuffer = false;
  napi_is_buffer(env, keyValue, &isBuffer);
  if (isBuffer) napi_get_buffer_info(env, keyValue, &key, &keyLength);
  isBuffer = false;
  napi_is_buffer(env, saltValue, &isBuffer);
  if (isBuffer) napi_get_buffer_info(env, saltValue, &salt, &saltLength);
  if (keyLength != 16 || saltLength < 12) {
    ok = false;
    return nullptr;
  }
  // The GCM master salt is 12 bytes (RFC 7714 §12), AES-CM's 14: the PRF reads 14, zero-padded
  uint8_t salt14[14] = {0};
  memcpy(salt14, salt, std::min<size_t>(14, saltLength));
  auto srtp = createSrtp(profile, static_cast<uint8_t*>(key), salt14);
  if (!srtp) ok = false;
  return srtp;
}

/**
 * configureReceive(leg, acceptPeer, ip, port, latching, srtpProfile, masterKey, masterSalt,
 * audioPt, dtmfPt, clockRate, mki?): what the leg accepts and how it reads it (mki: the peer's
 * SDES MKI, given with its keys). ip/port name the peer
 * (acceptPeer) and where the leg sends; srtpProfile 0 is plain RTP, -1 means SRTP without keys
 * yet (everything dropped), unchanged SRTP state when keys are null and the profile is the same.
 */
napi_value ConfigureReceive(napi_env env, napi_callback_info info) {
  napi_value argv[12];
  getArgs(env, info, argv, 11);
  Leg* leg = legArg(env, argv[0]);
  // A leg closed meanwhile (its JavaScript side closing) is no error
  if (!leg) return undefinedValue(env);
  bool acceptPeer = false, latching = false;
  napi_get_value_bool(env, argv[1], &acceptPeer);
  napi_get_value_bool(env, argv[4], &latching);
  leg->accept = acceptPeer ? Accept::Peer : Accept::Any;
  char ip[INET6_ADDRSTRLEN + 1] = "";
  size_t ipLength = 0;
  napi_get_value_string_utf8(env, argv[2], ip, sizeof ip, &ipLength);
  int32_t port = 0;
  argInt(env, argv[3], port);
  if (ipLength > 0) {
    sockaddr_storage peer;
    socklen_t peerLength = 0;
    if (!parseAddress(ip, uint32_t(port), peer, peerLength)) return throwType(env, "configureReceive: bad peer address");
    bool portMatches = false;
    bool same = leg->peerLength != 0 && samePeer(*leg, peer, portMatches) && portMatches;
    if (!same) leg->latched = false;
    leg->peer = peer;
    leg->peerLength = peerLength;
  } else {
    leg->peerLength = 0;
  }
  leg->latching = latching;
  int32_t profile = 0;
  argInt(env, argv[5], profile);
  bool hasKey = false;
  napi_is_buffer(env, argv[6], &hasKey);
  if (profile == 0) {
    leg->srtpIn.reset();
    leg->mki.clear();
    leg->srtpRequired = false;
  } else if (profile < 0) {
    leg->srtpIn.reset();
    leg->mki.clear();
    leg->srtpRequired = true;
  } else if (hasKey) {
    bool ok = true;
    leg->srtpIn = srtpArg(env, argv[5], argv[6], argv[7], ok);
    if (!ok) return throwType(env, "configureReceive: bad SRTP keys");
    leg->srtpRequired = true;
    leg->mki.clear();
    leg->mkiAfterTag = profile == 7;
    bool hasMki = false;
    napi_is_buffer(env, argv[11], &hasMki);
    if (hasMki) {
      void* mki = nullptr;
      size_t mkiLength = 0;
      napi_get_buffer_info(env, argv[11], &mki, &mkiLength);
      if (mkiLength > 128) return throwType(env, "configureReceive: MKI too long");
      auto* bytes = static_cast<uint8_t*>(mki);
      leg->mki.assign(bytes, bytes + mkiLength);
    }
  }
  int32_t audioPt = -1, dtmfPt = -1, clockRate = 8000;
  argInt(env, argv[8], audioPt);
  argInt(env, argv[9], dtmfPt);
  argInt(env, argv[10], clockRate);
  leg->recvAudioPt = audioPt;
  leg->recvDtmfPt = dtmfPt;
  leg->reception.clockRate = clockRate > 0 ? clockRate : 8000;
  return undefinedValue(env);
}

/**
 * configureSend(leg, allowed, srtpProfile, masterKey, masterSalt, audioPt, dtmfPt, clockRate,
 * ssrc, ip?, port?): how the leg sends; ip/port (optional) move the destination (a WebRTC leg's
 * nominated pair). Keys null with the same profile keep the SRTP state.
 */
napi_value ConfigureSend(napi_env env, napi_callback_info info) {
  napi_value argv[11];
  getArgs(env, info, argv, 9);
  Leg* leg = legArg(env, argv[0]);
  if (!leg) return undefinedValue(env);
  bool allowed = false;
  napi_get_value_bool(env, argv[1], &allowed);
  leg->sendAllowed = allowed;
  int32_t profile = 0;
  argInt(env, argv[2], profile);
  bool hasKey = false;
  napi_is_buffer(env, argv[3], &hasKey);
  if (profile == 0) {
    leg->srtpOut.reset();
  } else if (profile < 0) {
    leg->srtpOut.reset();
    leg->srtpRequired = true;
  } else if (hasKey) {
    bool ok = true;
    leg->srtpOut = srtpArg(env, argv[2], argv[3], argv[4], ok);
    if (!ok) return throwType(env, "configureSend: bad SRTP keys");
  }
  int32_t audioPt = -1, dtmfPt = -1, clockRate = 8000;
  argInt(env, argv[5], audioPt);
  argInt(env, argv[6], dtmfPt);
  argInt(env, argv[7], clockRate);
  leg->sendAudioPt = audioPt;
  leg->sendDtmfPt = dtmfPt;
  leg->outbound.samplesPerMs = (clockRate > 0 ? clockRate : 8000) / 1000.0;
  uint32_t ssrc = 0;
  if (napi_get_value_uint32(env, argv[8], &ssrc) == napi_ok) leg->outbound.ssrc = ssrc;
  char ip[INET6_ADDRSTRLEN + 1] = "";
  size_t ipLength = 0;
  if (napi_get_value_string_utf8(env, argv[9], ip, sizeof ip, &ipLength) == napi_ok && ipLength > 0) {
    int32_t port = 0;
    argInt(env, argv[10], port);
    if (!parseAddress(ip, uint32_t(port), leg->peer, leg->peerLength))
      return throwType(env, "configureSend: bad address");
  }
  return undefinedValue(env);
}

/** link(from, to | 0, paused): RTP received on `from` goes out on `to` (0: to JavaScript). */
napi_value Link(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  getArgs(env, info, argv, 2);
  Leg* from = legArg(env, argv[0]);
  int64_t to = 0;
  if (!argId(env, argv[1], to)) return throwType(env, "link(from, to, paused)");
  if (!from) return undefinedValue(env);
  // A closed target: nothing to send to, the packets are dropped as an unlinked leg's would be
  if (to != 0 && moduleOf(env)->legs.count(to) == 0) to = 0;
  bool paused = false;
  napi_get_value_bool(env, argv[2], &paused);
  from->linkTo = to;
  from->paused = paused;
  return undefinedValue(env);
}

/** setRtpHandler(leg, handler | null): RTP the leg receives while unlinked goes to handler. */
napi_value SetRtpHandler(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  getArgs(env, info, argv, 2);
  Leg* leg = legArg(env, argv[0]);
  if (!leg) return undefinedValue(env);
  if (leg->onRtp) napi_delete_reference(env, leg->onRtp);
  leg->onRtp = nullptr;
  napi_valuetype type;
  napi_typeof(env, argv[1], &type);
  if (type == napi_function) napi_create_reference(env, argv[1], 1, &leg->onRtp);
  return undefinedValue(env);
}

/** restart(leg): the next packet sent starts a new source (outbound_rtp_stream.ts restart). */
napi_value Restart(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  getArgs(env, info, argv, 1);
  Leg* leg = legArg(env, argv[0]);
  if (leg) leg->outbound.restart();
  return undefinedValue(env);
}

/** send(leg, packet, length, payloadOffset, kind) -> sent: a packet from JavaScript. */
napi_value Send(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  getArgs(env, info, argv, 5);
  Leg* leg = legArg(env, argv[0]);
  void* data = nullptr;
  size_t size = 0;
  int32_t length = 0, offset = 0, kind = 0;
  if (napi_get_buffer_info(env, argv[1], &data, &size) != napi_ok ||
      !argInt(env, argv[2], length) || !argInt(env, argv[3], offset) || !argInt(env, argv[4], kind))
    return throwType(env, "send(leg, packet, length, payloadOffset, kind)");
  napi_value result;
  if (!leg || length < 12 || size_t(length) > size || length > kBufferSize - 32 || offset < 12 || offset > length) {
    napi_get_boolean(env, false, &result);
    return result;
  }
  Module* module = moduleOf(env);
  memcpy(module->scratch, data, size_t(length));
  bool sent = sendRelayed(*leg, module->scratch, length, offset, kind);
  // The caller's buffer sees the rewritten header, as the TypeScript path rewrites in place
  if (sent) memcpy(data, module->scratch, 12);
  napi_get_boolean(env, sent, &result);
  return result;
}

/**
 * stats(leg, Float64Array(17)): packetsReceived, packetsRejected, authenticationFailures,
 * packetsSent, octetsSent, relayed, expected, lost, received, jitterMs, receivedSsrc, outbound
 * ssrc, lastTimestamp, lastSentAt, sendErrors, latched, peer port.
 */
napi_value Stats(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  getArgs(env, info, argv, 2);
  Leg* leg = legArg(env, argv[0]);
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  if (!leg || napi_get_typedarray_info(env, argv[1], &type, &length, &data, nullptr, nullptr) != napi_ok ||
      type != napi_float64_array || length < 17)
    return throwType(env, "stats(leg, Float64Array(17))");
  double* out = static_cast<double*>(data);
  out[0] = leg->packetsReceived;
  out[1] = leg->packetsRejected;
  out[2] = leg->authenticationFailures;
  out[3] = leg->packetsSent;
  out[4] = leg->octetsSent;
  out[5] = leg->relayed;
  out[6] = leg->reception.expected();
  out[7] = leg->reception.lost();
  out[8] = leg->reception.received();
  out[9] = leg->reception.jitterMs();
  out[10] = leg->reception.ssrc();
  out[11] = leg->outbound.ssrc;
  out[12] = leg->outbound.lastTimestamp();
  out[13] = leg->outbound.lastSentAt();
  out[14] = leg->sendErrors;
  out[15] = leg->latched ? 1 : 0;
  uint32_t port = 0;
  if (leg->peer.ss_family == AF_INET) port = ntohs(reinterpret_cast<sockaddr_in*>(&leg->peer)->sin_port);
  if (leg->peer.ss_family == AF_INET6) port = ntohs(reinterpret_cast<sockaddr_in6*>(&leg->peer)->sin6_port);
  out[16] = leg->peerLength ? port : 0;
  return undefinedValue(env);
}

/** takeReport(leg, Float64Array(5)): a report block's figures (reception_stats.ts takeReport). */
napi_value TakeReport(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  getArgs(env, info, argv, 2);
  Leg* leg = legArg(env, argv[0]);
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  if (!leg || napi_get_typedarray_info(env, argv[1], &type, &length, &data, nullptr, nullptr) != napi_ok ||
      type != napi_float64_array || length < 5)
    return throwType(env, "takeReport(leg, Float64Array(5))");
  leg->reception.takeReport(static_cast<double*>(data));
  return undefinedValue(env);
}

/** closeLeg(leg): stops reading its sockets (the JavaScript sockets stay open) and forgets it. */
napi_value CloseLeg(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  getArgs(env, info, argv, 1);
  Leg* leg = legArg(env, argv[0]);
  if (leg) destroyLeg(*moduleOf(env), leg);
  return undefinedValue(env);
}

/** counters(): [legs, wake-ups, datagrams] of this process (tests, the benchmark). */
napi_value Counters(napi_env env, napi_callback_info) {
  Module* module = moduleOf(env);
  napi_value result, value;
  napi_create_array_with_length(env, 3, &result);
  napi_create_double(env, double(module->legs.size()), &value);
  napi_set_element(env, result, 0, value);
  napi_create_double(env, module->wakeups, &value);
  napi_set_element(env, result, 1, value);
  napi_create_double(env, module->datagrams, &value);
  napi_set_element(env, result, 2, value);
  return result;
}

/**
 * srtpTransform(profile, masterKey, masterSalt, protect, packet, length, payloadOffset) ->
 * new length or -1: one packet through a fresh context (tests compare it with srtp_context.ts).
 */
napi_value SrtpTransform(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  getArgs(env, info, argv, 7);
  bool ok = true;
  auto srtp = srtpArg(env, argv[0], argv[1], argv[2], ok);
  bool protect = false;
  napi_get_value_bool(env, argv[3], &protect);
  void* data = nullptr;
  size_t size = 0;
  int32_t length = 0, offset = 0;
  if (!srtp || !ok || napi_get_buffer_info(env, argv[4], &data, &size) != napi_ok ||
      !argInt(env, argv[5], length) || !argInt(env, argv[6], offset) || length < 12 ||
      size_t(length) > size || offset > length || (protect && size < size_t(length + srtp->overhead)))
    return throwType(env, "srtpTransform(profile, key, salt, protect, packet, length, offset)");
  auto* packet = static_cast<uint8_t*>(data);
  int result = protect ? srtp->protect(packet, length, offset) : srtp->unprotect(packet, length, offset);
  napi_value value;
  napi_create_int32(env, result, &value);
  return value;
}

void finalizeModule(napi_env env, void* data, void*) {
  auto* module = static_cast<Module*>(data);
  std::vector<Leg*> legs;
  for (auto& entry : module->legs) legs.push_back(entry.second);
  for (Leg* leg : legs) destroyLeg(*module, leg);
  if (module->async) napi_async_destroy(env, module->async);
  delete module;
}

napi_value Init(napi_env env, napi_value exports) {
  auto* module = new Module();
  module->env = env;
  if (napi_get_uv_event_loop(env, &module->loop) != napi_ok) {
    delete module;
    napi_throw_error(env, nullptr, "no event loop");
    return nullptr;
  }
  napi_value resourceName;
  napi_create_string_utf8(env, "fluffycall.media.packet", NAPI_AUTO_LENGTH, &resourceName);
  napi_async_init(env, nullptr, resourceName, &module->async);
  napi_set_instance_data(env, module, finalizeModule, nullptr);
  napi_property_descriptor methods[] = {
      {"createLeg", nullptr, CreateLeg, nullptr, nullptr, nullptr, napi_default_jsproperty, nullptr},
      {"addSocket", nullptr, AddSocket, nullptr, nullptr, nullptr, napi_default_jsproperty, nullptr},
      {"configureReceive", nullptr, ConfigureReceive, nullptr, nullptr, nullptr, napi_default_jsproperty, nullptr},
      {"configureSend", nullptr, ConfigureSend, nullptr, nullptr, nullptr, napi_default_jsproperty, nullptr},
      {"link", nullptr, Link, nullptr, nullptr, nullptr, napi_default_jsproperty, nullptr},
      {"setRtpHandler", nullptr, SetRtpHandler, nullptr, nullptr, nullptr, napi_default_jsproperty, nullptr},
      {"restart", nullptr, Restart, nullptr, nullptr, nullptr, napi_default_jsproperty, nullptr},
      {"send", nullptr, Send, nullptr, nullptr, nullptr, napi_default_jsproperty, nullptr},
      {"stats", nullptr, Stats, nullptr, nullptr, nullptr, napi_default_jsproperty, nullptr},
      {"takeReport", nullptr, TakeReport, nullptr, nullptr, nullptr, napi_default_jsproperty, nullptr},
      {"closeLeg", nullptr, CloseLeg, nullptr, nullptr, nullptr, napi_default_jsproperty, nullptr},
      {"counters", nullptr, Counters, nullptr, nullptr, nullptr, napi_default_jsproperty, nullptr},
      {"srtpTransform", nullptr, SrtpTransform, nullptr, nullptr, nullptr, napi_default_jsproperty, nullptr},
  };
  napi_define_properties(env, exports, sizeof methods / sizeof methods[0], methods);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
