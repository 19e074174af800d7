// The filtering helper's compiled fast lane: answers Squid's request lines whose decision is
// already known, in one pass over a batch, and hands every other line back to Python.
//
// It decides nothing on its own. Python (filtering/fastpath.py) teaches it, after each decision
// it makes: which group (zone, or zone@login) a client address belongs to, and which answer a
// group gets for a set of categories. The lane finds a request's categories in the same mapped
// index as Python (marisa tries, set arrays, expressions through PCRE2) and looks the answer up.
// A line it cannot treat exactly as Python would (odd spacing, %-encoded host, non-ASCII text,
// addresses, hosts that a policy layer names, a group or category set not taught yet) is
// returned untouched for Python to decide. Squid matches answers by channel id, so the order of
// answers within a batch does not matter.

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <marisa.h>
#include <pcre2.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace {

using Mask = unsigned __int128;  // one bit per category that some decision can depend on
constexpr int kFields = 6;       // client user method host path sni (then the acl's own args)
// Targets (host and path) whose categories are remembered: about half of a school's requests
// repeat one seen shortly before. A direct-mapped table of fixed slots (4 MiB, allocated once):
// a new target costs one slot write, never an allocation, so traffic that does not repeat pays
// almost nothing for it. Targets longer than a slot's key are not remembered.
constexpr size_t kMemoSlots = 1 << 15;
constexpr size_t kMemoKey = 88;
// Distinct hosts a client may add to its "recently blocked" list per take_refusals (about a
// second): a page of them is all a person reads, while a device looping on blocked names
// (malware, an app retrying) would otherwise cost a store write each. Every refusal is still
// answered, and logged by Squid.
constexpr size_t kListedPerClient = 20;

struct GroupMask {
  int group;
  Mask mask;
  bool operator==(const GroupMask& o) const { return group == o.group && mask == o.mask; }
};

struct GroupMaskHash {
  size_t operator()(const GroupMask& k) const {
    uint64_t lo = static_cast<uint64_t>(k.mask), hi = static_cast<uint64_t>(k.mask >> 64);
    uint64_t h = lo * 0x9E3779B97F4A7C15ULL ^ (hi + 0x632BE59BD9B4E019ULL + (lo << 6));
    return static_cast<size_t>(h ^ (static_cast<uint64_t>(k.group) * 0xC2B2AE3D27D4EB4FULL));
  }
};

struct MemoSlot {
  uint64_t hash;
  Mask mask;
  uint32_t size;  // of the key; 0: empty
  char key[kMemoKey];
};

struct Taught {
  int id;             // the answer's number in Python's table (counters, refusal records)
  std::string words;  // what follows the channel id: " OK notes\n" or " ERR notes\n"
  bool refusal;       // recorded for the "recently blocked" page
};

struct Expression {
  pcre2_code* code;
  Mask bit;
};

// One shard of the domain trie (filtering/shards.py): a trie and its keys' set ids.
struct Shard {
  marisa::Trie trie;
  const uint16_t* sets = nullptr;
  size_t n_sets = 0;
};

// CRC-32 as zlib computes it (reflected, polynomial 0xEDB88320): the shard of a domain key is
// the CRC of its first two labels, exactly as Python's zlib.crc32 gives it.
uint32_t crc32(std::string_view data) {
  static const auto table = [] {
    std::vector<uint32_t> t(256);
    for (uint32_t n = 0; n < 256; ++n) {
      uint32_t c = n;
      for (int k = 0; k < 8; ++k) c = c & 1 ? 0xEDB88320U ^ (c >> 1) : c >> 1;
      t[n] = c;
    }
    return t;
  }();
  uint32_t c = 0xFFFFFFFFU;
  for (unsigned char b : data) c = table[(c ^ b) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFU;
}

// The sites filter (filtering/sitefilter.py): a blocked Bloom filter, written by the compiler,
// of every domain key's site (its first two labels, "com.example.") and of every one-label key.
// A name whose one-label key and site are both absent has no listed entry: most names asked are
// listed nowhere, and this spares them the trie walk (cache misses at every level of a 5M-key
// trie). Blocks of 512 bits; each site sets kSiteBits bits of one block.
constexpr size_t kBlockWords = 8;
constexpr int kSiteBits = 7;

uint64_t site_hash(std::string_view site) {
  uint64_t h = 0xCBF29CE484222325ULL;  // FNV-1a, then splitmix64's finaliser
  for (unsigned char c : site) h = (h ^ c) * 0x100000001B3ULL;
  h ^= h >> 30;
  h *= 0xBF58476D1CE4E5B9ULL;
  h ^= h >> 27;
  h *= 0x94D049BB133111EBULL;
  return h ^ (h >> 31);
}

// Whether ``site`` may be in the filter (false: certainly not), or with ``set``, add it.
bool site_bits(uint64_t* words, size_t blocks, std::string_view site, bool set) {
  uint64_t h = site_hash(site);
  uint64_t* block = words + ((h >> 32) * blocks >> 32) * kBlockWords;
  uint32_t at = static_cast<uint32_t>(h) & 511, step = (static_cast<uint32_t>(h) >> 9 & 511) | 1;
  bool all = true;
  for (int i = 0; i < kSiteBits; ++i, at = (at + step) & 511) {
    uint64_t bit = 1ULL << (at & 63);
    if (set) block[at >> 6] |= bit;
    else all = all && (block[at >> 6] & bit);
  }
  return all;
}

struct State {
  std::vector<std::unique_ptr<Shard>> domains;  // marisa::Trie cannot be moved
  marisa::Trie urls;
  const uint16_t* url_sets = nullptr;
  size_t n_url_sets = 0;
  std::vector<Mask> set_masks;  // category set id -> its relevant categories
  std::vector<Expression> expressions;
  pcre2_match_data* match = nullptr;
  std::unordered_map<std::string, int> clients;
  std::unordered_map<GroupMask, Taught, GroupMaskHash> answers;
  std::unordered_set<std::string> named;  // hosts (and their subdomains) some layer names
  std::string refused;  // "client\thost\tanswer id\n" for each refusal since take_refusals
  std::unordered_map<std::string, std::vector<std::string>> listed;  // client -> hosts, same
  size_t unlisted = 0;  // refusals beyond kListedPerClient, since take_refusals
  MemoSlot* memo = nullptr;  // kMemoSlots: "host\npath" -> categories (same index), by hash
  // Hashes of the hosts that some URL entry lies under (open addressing, 0 = empty): most
  // hosts have none, and this answers for them without walking the URL trie.
  std::vector<uint64_t> url_hosts;
  const uint64_t* sites = nullptr;  // the sites filter (none in an index compiled without it)
  size_t site_blocks = 0;
  marisa::Agent agent;

  bool maybe_site(std::string_view site) const {
    return site_bits(const_cast<uint64_t*>(sites), site_blocks, site, false);
  }

  ~State() {
    for (auto& e : expressions) pcre2_code_free(e.code);
    if (match) pcre2_match_data_free(match);
    std::free(memo);
  }
};

struct FastPath {
  PyObject_HEAD
  State* state;
  Py_buffer views[5];  // the four sections, then the sites filter if given
  int held;  // how many of views are held
};

// --- the request's parts ---------------------------------------------------------------------

bool is_hex(char c) { return (c >= '0' && c <= '9') || ((c | 32) >= 'a' && (c | 32) <= 'f'); }

int hex_value(char c) { return c <= '9' ? c - '0' : (c | 32) - 'a' + 10; }

// A field as Python's helper reads it (urllib's unquote, "-" for empty); false when the result
// would not be plain ASCII (Python decodes UTF-8 with replacement: leave those to it).
bool decode_field(std::string_view token, std::string& out) {
  out.clear();
  for (size_t i = 0; i < token.size(); ++i) {
    char c = token[i];
    if (c == '%' && i + 2 < token.size() && is_hex(token[i + 1]) && is_hex(token[i + 2])) {
      c = static_cast<char>(hex_value(token[i + 1]) * 16 + hex_value(token[i + 2]));
      i += 2;
    }
    if (static_cast<unsigned char>(c) >= 0x80) return false;
    out.push_back(c);
  }
  if (out == "-") out.clear();
  return true;
}

// How filtering.names.normalise_domain sees a lowercase name without a final dot.
enum class Name {
  kOther,      // anything else: left to Python
  kListed,     // labels [a-z0-9_-]{1,63} joined by dots, at most 253 long: returned unchanged
  kMalformed,  // such labels, the last all digits, but not an IPv4 address: never listed
};

// A whole IPv4 address as filtering.names._IPV4 reads one: four octets 0-255, no leading zero.
bool ipv4(std::string_view host) {
  int octets = 0;
  while (true) {
    size_t dot = host.find('.');
    std::string_view octet = host.substr(0, dot);
    if (octet.empty() || octet.size() > 3 || (octet.size() > 1 && octet[0] == '0')) return false;
    int value = 0;
    for (char c : octet) {
      if (c < '0' || c > '9') return false;
      value = value * 10 + (c - '0');
    }
    if (value > 255 || ++octets > 4) return false;
    if (dot == std::string_view::npos) return octets == 4;
    host.remove_prefix(dot + 1);
  }
}

Name classify(const std::string& host) {
  if (host.empty() || host.size() > 253) return Name::kOther;
  size_t label = 0;
  bool digits = true;  // the current label is all digits
  for (char c : host) {
    if (c == '.') {
      if (label == 0) return Name::kOther;
      label = 0;
      digits = true;
      continue;
    }
    bool digit = c >= '0' && c <= '9';
    bool ok = (c >= 'a' && c <= 'z') || digit || c == '_' || c == '-';
    if (!ok || ++label > 63) return Name::kOther;
    digits = digits && digit;
  }
  if (label == 0) return Name::kOther;
  // A numeric last label is never a TLD: the name must be a whole address.
  return !digits || ipv4(host) ? Name::kListed : Name::kMalformed;
}

// The host that filtering.decide.target_host judges (the SNI, else the host; lowercase, no
// port, no final dots); false for IPv6 literals and non-ASCII names, left to Python.
bool target_host(const std::string& host, const std::string& sni, std::string& out) {
  const std::string& name = sni.empty() ? host : sni;
  out.clear();
  size_t colons = 0;
  for (char c : name) {
    if (static_cast<unsigned char>(c) >= 0x80 || c == ' ') return false;
    colons += c == ':';
    out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c);
  }
  if ((!out.empty() && out[0] == '[') || colons > 1) return false;
  if (colons == 1) out.resize(out.rfind(':'));
  while (!out.empty() && out.back() == '.') out.pop_back();
  return true;
}

// filtering.names.strip_www: without a leading www. or wwwN. when a dot remains after it.
std::string_view strip_www(std::string_view host) {
  if (host.substr(0, 3) != "www") return host;
  size_t i = 3;
  while (i < host.size() && host[i] >= '0' && host[i] <= '9') ++i;
  if (i < host.size() && host[i] == '.' && host.find('.', i + 1) != std::string_view::npos)
    return host.substr(i + 1);
  return host;
}

bool named_host(const State& st, std::string_view host, std::string& probe) {
  if (st.named.empty()) return false;
  while (true) {
    probe.assign(host.data(), host.size());  // reuses its buffer: no allocation per request
    if (st.named.count(probe)) return true;
    size_t dot = host.find('.');
    if (dot == std::string_view::npos) return false;
    host.remove_prefix(dot + 1);
  }
}

Mask prefixes(State& st, const marisa::Trie& trie, const uint16_t* sets, size_t n_sets,
              const std::string& key) {
  Mask found = 0;
  st.agent.set_query(key.data(), key.size());
  while (trie.common_prefix_search(st.agent)) {
    size_t id = st.agent.key().id();
    if (id < n_sets && sets[id] < st.set_masks.size()) found |= st.set_masks[sets[id]];
  }
  return found;
}

uint64_t hash_of(std::string_view text) {
  uint64_t h = std::hash<std::string_view>{}(text);
  return h ? h : 1;  // 0 marks an empty slot
}

// Whether some URL entry may lie under ``bare`` (false: certainly none; true: walk the trie).
bool has_url_entries(const State& st, std::string_view bare) {
  if (st.url_hosts.empty()) return true;  // not built: always walk
  size_t mask = st.url_hosts.size() - 1;
  uint64_t h = hash_of(bare);
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    if (st.url_hosts[i] == h) return true;
    if (st.url_hosts[i] == 0) return false;
  }
}

// The hosts of the URL trie's keys ("host/path"), hashed into st.url_hosts.
void index_url_hosts(State& st) {
  std::vector<uint64_t> hashes;
  marisa::Agent agent;
  agent.set_query("", 0);
  while (st.urls.predictive_search(agent)) {
    std::string_view key(agent.key().ptr(), agent.key().length());
    size_t slash = key.find('/');
    if (slash != std::string_view::npos) hashes.push_back(hash_of(key.substr(0, slash)));
  }
  size_t slots = 16;
  while (slots < 2 * hashes.size()) slots <<= 1;
  st.url_hosts.assign(slots, 0);
  for (uint64_t h : hashes) {
    for (size_t i = h & (slots - 1);; i = (i + 1) & (slots - 1)) {
      if (st.url_hosts[i] == h) break;
      if (st.url_hosts[i] == 0) {
        st.url_hosts[i] = h;
        break;
      }
    }
  }
}

// The categories of a well-formed name's domain and URL entries.
Mask listed(State& st, const std::string& host, const std::string& path, std::string& scratch) {
  // Domain entries: the labels reversed, then a dot (filtering.names.domain_key).
  scratch.clear();
  size_t end = host.size();
  while (true) {
    size_t dot = host.rfind('.', end - 1);
    size_t start = dot == std::string::npos ? 0 : dot + 1;
    scratch.append(host, start, end - start).push_back('.');
    if (dot == std::string::npos) break;
    end = dot;
  }
  size_t first = scratch.find('.');
  size_t second = scratch.find('.', first + 1);
  std::string_view key(scratch);
  // Every listed parent is the one-label key or shares the name's site (see the filter).
  bool walk = !st.sites || st.maybe_site(key.substr(0, first + 1)) ||
              (second != std::string::npos && st.maybe_site(key.substr(0, second + 1)));
  Mask found = 0;
  if (walk) {
    size_t shard = 0;  // filtering.shards.shard_of: the key's first two labels
    if (st.domains.size() > 1 && second != std::string::npos)
      shard = crc32(key.substr(0, second + 1)) % st.domains.size();
    const Shard& in = *st.domains[shard];
    found = prefixes(st, in.trie, in.sets, in.n_sets, scratch);
  }
  // URL entries, only when some lie under the host (filtering.index.Index.host_categories).
  std::string_view bare = strip_www(host);
  if (!has_url_entries(st, bare)) return found;
  scratch.assign(bare.data(), bare.size()).push_back('/');
  st.agent.set_query(scratch.data(), scratch.size());
  if (st.urls.predictive_search(st.agent)) {
    scratch.pop_back();
    scratch += path.empty() ? std::string_view("/") : std::string_view(path);
    found |= prefixes(st, st.urls, st.url_sets, st.n_url_sets, scratch);
  }
  return found;
}

// The relevant categories of one request, as filtering.index.Index.lookup finds them: a
// malformed name has none of its own, but expressions still see its URL.
Mask categories(State& st, const std::string& host, const std::string& path, Name name,
                std::string& scratch) {
  Mask found = name == Name::kListed ? listed(st, host, path, scratch) : 0;
  // Expressions, on host + path.
  scratch.assign(host).append(path);
  for (const auto& e : st.expressions) {
    if (found & e.bit) continue;  // already known: the search would change nothing
    int rc = pcre2_match(e.code, reinterpret_cast<PCRE2_SPTR>(scratch.data()), scratch.size(),
                         0, 0, st.match, nullptr);
    if (rc >= 0) found |= e.bit;
  }
  return found;
}

// --- Python glue -------------------------------------------------------------------------------

Mask mask_of(PyObject* number, bool* ok) {
  // Two 64-bit halves: Python passes masks as ints of up to 128 bits.
  PyObject* shift = PyLong_FromLong(64);
  PyObject* high = shift ? PyNumber_Rshift(number, shift) : nullptr;
  unsigned long long lo = PyLong_AsUnsignedLongLongMask(number);
  unsigned long long hi = high ? PyLong_AsUnsignedLongLong(high) : 0;
  Py_XDECREF(shift);
  Py_XDECREF(high);
  *ok = !PyErr_Occurred();
  return (static_cast<Mask>(hi) << 64) | lo;
}

PyObject* mask_to_long(Mask m) {
  PyObject* hi = PyLong_FromUnsignedLongLong(static_cast<uint64_t>(m >> 64));
  PyObject* lo = PyLong_FromUnsignedLongLong(static_cast<uint64_t>(m));
  PyObject* shift = PyLong_FromLong(64);
  PyObject* shifted = (hi && shift) ? PyNumber_Lshift(hi, shift) : nullptr;
  PyObject* out = (shifted && lo) ? PyNumber_Or(shifted, lo) : nullptr;
  Py_XDECREF(hi);
  Py_XDECREF(lo);
  Py_XDECREF(shift);
  Py_XDECREF(shifted);
  return out;
}

void release(FastPath* self) {
  delete self->state;
  self->state = nullptr;
  for (int i = 0; i < self->held; ++i) PyBuffer_Release(&self->views[i]);
  self->held = 0;
}

void fp_dealloc(FastPath* self) {
  PyTypeObject* type = Py_TYPE(self);  // a heap type: each instance holds a reference to it
  release(self);
  type->tp_free(reinterpret_cast<PyObject*>(self));
  Py_DECREF(type);
}

State* live(FastPath* self) {
  if (!self->state) PyErr_SetString(PyExc_ValueError, "the fast path was closed");
  return self->state;
}


// FastPath(domain_trie, domain_sets, url_trie, url_sets, set_masks, expressions, shards): the
// four index sections (buffers, kept mapped while it lives), each category set's relevant mask,
// (pattern, bit) for each relevant category's combined expression, and (trie offset, trie
// length, sets offset, sets length) of each domain shard inside the two domain sections.
int fp_init(FastPath* self, PyObject* args, PyObject* kwargs) {
  static const char* names[] = {"domain_trie", "domain_sets", "url_trie", "url_sets",
                                "set_masks", "expressions", "shards", "sites", nullptr};
  PyObject *sections[5] = {}, *masks, *expressions, *shards;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OOOOOOO|O", const_cast<char**>(names),
                                   &sections[0], &sections[1], &sections[2], &sections[3],
                                   &masks, &expressions, &shards, &sections[4]))
    return -1;
  release(self);
  int given = sections[4] && sections[4] != Py_None ? 5 : 4;
  for (int i = 0; i < given; ++i) {
    if (PyObject_GetBuffer(sections[i], &self->views[i], PyBUF_SIMPLE) < 0) return -1;
    self->held = i + 1;
  }
  auto* st = new State();
  self->state = st;
  if (given == 5) {
    const Py_buffer& filter = self->views[4];
    size_t bytes = static_cast<size_t>(filter.len), block = kBlockWords * sizeof(uint64_t);
    if (bytes % block || reinterpret_cast<uintptr_t>(filter.buf) % alignof(uint64_t) ||
        bytes / block >= (1ULL << 32)) {
      PyErr_SetString(PyExc_ValueError, "the sites filter is not whole aligned blocks");
      return -1;
    }
    st->sites = bytes ? static_cast<const uint64_t*>(filter.buf) : nullptr;  // empty: none
    st->site_blocks = bytes / block;
  }
  PyObject* places = PySequence_Fast(shards, "shards must be a sequence of 4-tuples");
  if (!places) return -1;
  const auto* tries = static_cast<const char*>(self->views[0].buf);
  const auto* sets = static_cast<const char*>(self->views[1].buf);
  for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(places); ++i) {
    Py_ssize_t trie_at, trie_len, sets_at, sets_len;
    if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(places, i), "nnnn", &trie_at, &trie_len,
                          &sets_at, &sets_len)) {
      Py_DECREF(places);
      return -1;
    }
    if (trie_at < 0 || trie_len < 0 || sets_at < 0 || sets_len < 0 ||
        trie_at + trie_len > self->views[0].len || sets_at + sets_len > self->views[1].len) {
      Py_DECREF(places);
      PyErr_SetString(PyExc_ValueError, "a domain shard lies outside its section");
      return -1;
    }
    auto shard = std::make_unique<Shard>();
    try {
      shard->trie.map(tries + trie_at, static_cast<size_t>(trie_len));
    } catch (const marisa::Exception& exc) {
      Py_DECREF(places);
      PyErr_Format(PyExc_ValueError, "not a marisa trie: %s", exc.what());
      return -1;
    }
    shard->sets = reinterpret_cast<const uint16_t*>(sets + sets_at);
    shard->n_sets = static_cast<size_t>(sets_len) / 2;
    st->domains.push_back(std::move(shard));
  }
  Py_DECREF(places);
  if (st->domains.empty()) {
    PyErr_SetString(PyExc_ValueError, "no domain shard");
    return -1;
  }
  try {
    st->urls.map(self->views[2].buf, static_cast<size_t>(self->views[2].len));
  } catch (const marisa::Exception& exc) {
    PyErr_Format(PyExc_ValueError, "not a marisa trie: %s", exc.what());
    return -1;
  }
  try {
    index_url_hosts(*st);
  } catch (const marisa::Exception&) {
    st->url_hosts.clear();  // then every host walks the trie, as before
  }
  // calloc: the pages are the kernel's zero pages until a slot is written (RSS grows with use).
  st->memo = static_cast<MemoSlot*>(std::calloc(kMemoSlots, sizeof(MemoSlot)));
  if (!st->memo) {
    PyErr_NoMemory();
    return -1;
  }
  st->url_sets = static_cast<const uint16_t*>(self->views[3].buf);
  st->n_url_sets = static_cast<size_t>(self->views[3].len) / 2;
  PyObject* seq = PySequence_Fast(masks, "set_masks must be a sequence of ints");
  if (!seq) return -1;
  for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq); ++i) {
    bool ok;
    st->set_masks.push_back(mask_of(PySequence_Fast_GET_ITEM(seq, i), &ok));
    if (!ok) {
      Py_DECREF(seq);
      return -1;
    }
  }
  Py_DECREF(seq);
  seq = PySequence_Fast(expressions, "expressions must be a sequence of (pattern, bit)");
  if (!seq) return -1;
  for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq); ++i) {
    const char* pattern;
    Py_ssize_t length;
    PyObject* bit;
    if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(seq, i), "s#O", &pattern, &length, &bit)) {
      Py_DECREF(seq);
      return -1;
    }
    bool ok;
    Mask m = mask_of(bit, &ok);
    int error;
    PCRE2_SIZE offset;
    pcre2_code* code = ok ? pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern),
                                          static_cast<size_t>(length), PCRE2_CASELESS, &error,
                                          &offset, nullptr) : nullptr;
    if (!code) {
      Py_DECREF(seq);
      if (ok) {
        PCRE2_UCHAR message[256];
        pcre2_get_error_message(error, message, sizeof message);
        PyErr_Format(PyExc_ValueError, "expression %zd does not compile at %zu: %s", i,
                     static_cast<size_t>(offset), reinterpret_cast<char*>(message));
      }
      return -1;
    }
    pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  // interpreted if JIT is unavailable
    st->expressions.push_back({code, m});
  }
  Py_DECREF(seq);
  st->match = pcre2_match_data_create(1, nullptr);
  return 0;
}

PyObject* fp_teach_client(FastPath* self, PyObject* args) {
  const char* client;
  Py_ssize_t length;
  int group;
  if (!PyArg_ParseTuple(args, "y#i", &client, &length, &group)) return nullptr;
  State* st = live(self);
  if (!st) return nullptr;
  st->clients[std::string(client, static_cast<size_t>(length))] = group;
  Py_RETURN_NONE;
}

PyObject* fp_teach_answer(FastPath* self, PyObject* args) {
  int group, id, refusal;
  PyObject* mask;
  const char* words;
  Py_ssize_t length;
  if (!PyArg_ParseTuple(args, "iOiy#p", &group, &mask, &id, &words, &length, &refusal))
    return nullptr;
  State* st = live(self);
  bool ok;
  Mask m = st ? mask_of(mask, &ok) : 0;
  if (!st || !ok) return nullptr;
  st->answers[{group, m}] = {id, std::string(words, static_cast<size_t>(length)), refusal != 0};
  Py_RETURN_NONE;
}

PyObject* fp_set_named(FastPath* self, PyObject* names) {
  State* st = live(self);
  if (!st) return nullptr;
  PyObject* seq = PySequence_Fast(names, "named must be a sequence of str");
  if (!seq) return nullptr;
  st->named.clear();
  for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq); ++i) {
    Py_ssize_t length;
    const char* text = PyUnicode_AsUTF8AndSize(PySequence_Fast_GET_ITEM(seq, i), &length);
    if (!text) {
      Py_DECREF(seq);
      return nullptr;
    }
    st->named.emplace(text, static_cast<size_t>(length));
  }
  Py_DECREF(seq);
  Py_RETURN_NONE;
}

PyObject* fp_clear_clients(FastPath* self, PyObject*) {
  if (State* st = live(self)) {
    st->clients.clear();
    Py_RETURN_NONE;
  }
  return nullptr;
}

PyObject* fp_clear_answers(FastPath* self, PyObject*) {
  if (State* st = live(self)) {
    st->answers.clear();
    Py_RETURN_NONE;
  }
  return nullptr;
}

PyObject* fp_categories(FastPath* self, PyObject* args) {
  const char *host, *path;
  if (!PyArg_ParseTuple(args, "ss", &host, &path)) return nullptr;
  State* st = live(self);
  if (!st) return nullptr;
  std::string scratch, h(host);
  Name name = classify(h);
  if (name == Name::kOther) Py_RETURN_NONE;
  return mask_to_long(categories(*st, h, path, name, scratch));
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

// The scan of one batch, made without the GIL (it touches no Python object): the refusal
// writer thread runs meanwhile.
void scan(State& st, const char* data, size_t size, std::string& out,
          std::vector<std::string_view>& leftovers, std::vector<Py_ssize_t>& tally) {
  std::string client, method, host, path, sni, target, scratch, key;
  const char* end = data + size;
  for (const char* line = data; line < end;) {
    const char* stop = static_cast<const char*>(memchr(line, '\n', static_cast<size_t>(end - line)));
    if (!stop) stop = end;
    std::string_view text(line, static_cast<size_t>(stop - line));
    line = stop + 1;
    std::string_view tokens[kFields + 1];
    int count = 0;
    bool plain = !text.empty();
    for (size_t at = 0; plain && count <= kFields && at <= text.size();) {
      size_t next = text.find(' ', at);
      if (next == std::string_view::npos) next = text.size();
      std::string_view token = text.substr(at, next - at);
      if (token.empty()) plain = false;
      for (char c : token) plain = plain && !is_space(c);
      tokens[count++] = token;
      at = next + 1;
    }
    const Taught* taught = nullptr;
    Name name = Name::kOther;
    if (plain && count == kFields + 1) {
      client.assign(tokens[1]);
      auto group = st.clients.find(client);
      if (group != st.clients.end() && decode_field(tokens[3], method) &&
          decode_field(tokens[4], host) && decode_field(tokens[5], path) &&
          decode_field(tokens[6], sni) && target_host(host, sni, target) &&
          (name = classify(target)) != Name::kOther && !named_host(st, target, scratch)) {
        if (method == "CONNECT" || !sni.empty()) path.clear();
        key.assign(target).append(1, '\n').append(path);
        Mask mask;
        if (key.size() <= kMemoKey) {
          uint64_t h = hash_of(key);
          MemoSlot& slot = st.memo[h & (kMemoSlots - 1)];
          if (slot.size == key.size() && slot.hash == h &&
              std::memcmp(slot.key, key.data(), key.size()) == 0) {
            mask = slot.mask;
          } else {
            mask = categories(st, target, path, name, scratch);
            slot.hash = h;
            slot.mask = mask;
            slot.size = static_cast<uint32_t>(key.size());
            std::memcpy(slot.key, key.data(), key.size());
          }
        } else {
          mask = categories(st, target, path, name, scratch);
        }
        auto found = st.answers.find({group->second, mask});
        if (found != st.answers.end()) taught = &found->second;
      }
    }
    if (!taught) {
      leftovers.push_back(text);
      continue;
    }
    out.append(tokens[0]).append(taught->words);
    if (static_cast<size_t>(taught->id) >= tally.size()) tally.resize(taught->id + 1, 0);
    ++tally[taught->id];
    if (taught->refusal) {
      std::vector<std::string>& hosts = st.listed[client];
      bool seen = false;
      for (const auto& h : hosts) seen = seen || h == target;
      if (seen) continue;  // listed already in this interval: the same row
      if (hosts.size() >= kListedPerClient) {
        ++st.unlisted;
        continue;
      }
      hosts.push_back(target);
      st.refused.append(client).append(1, '\t').append(target).append(1, '\t');
      st.refused.append(std::to_string(taught->id)).append(1, '\n');
    }
  }
}

// answer(lines) -> (answers, leftovers, tally): ``lines`` are whole request lines, each ending
// in a newline; ``answers`` the bytes to write for those answered here, ``leftovers`` the
// others (without newline), ``tally`` {answer id: count}. Refusals given wait for
// take_refusals. Only one thread may use a FastPath at a time.
PyObject* fp_answer(FastPath* self, PyObject* arg) {
  State* st = live(self);
  if (!st) return nullptr;
  char* data;
  Py_ssize_t size;
  if (PyBytes_AsStringAndSize(arg, &data, &size) < 0) return nullptr;
  std::string out;
  out.reserve(static_cast<size_t>(size));
  std::vector<std::string_view> left;
  std::vector<Py_ssize_t> tally;
  Py_BEGIN_ALLOW_THREADS
  scan(*st, data, static_cast<size_t>(size), out, left, tally);
  Py_END_ALLOW_THREADS
  PyObject* answers = PyBytes_FromStringAndSize(out.data(), static_cast<Py_ssize_t>(out.size()));
  PyObject* leftovers = PyList_New(static_cast<Py_ssize_t>(left.size()));
  PyObject* counts = PyDict_New();
  bool failed = !answers || !leftovers || !counts;
  for (size_t i = 0; !failed && i < left.size(); ++i) {
    PyObject* item = PyBytes_FromStringAndSize(left[i].data(), static_cast<Py_ssize_t>(left[i].size()));
    failed = !item;
    if (item) PyList_SET_ITEM(leftovers, static_cast<Py_ssize_t>(i), item);
  }
  for (size_t id = 0; !failed && id < tally.size(); ++id) {
    if (!tally[id]) continue;
    PyObject *key = PyLong_FromSize_t(id), *value = PyLong_FromSsize_t(tally[id]);
    failed = !key || !value || PyDict_SetItem(counts, key, value) < 0;
    Py_XDECREF(key);
    Py_XDECREF(value);
  }
  if (failed) {
    Py_XDECREF(answers);
    Py_XDECREF(leftovers);
    Py_XDECREF(counts);
    return nullptr;
  }
  return Py_BuildValue("(NNN)", answers, leftovers, counts);
}

PyObject* fp_take_refusals(FastPath* self, PyObject*) {
  State* st = live(self);
  if (!st) return nullptr;
  PyObject* out = Py_BuildValue("(y#n)", st->refused.data(),
                                static_cast<Py_ssize_t>(st->refused.size()),
                                static_cast<Py_ssize_t>(st->unlisted));
  if (out) {
    st->refused.clear();
    st->listed.clear();
    st->unlisted = 0;
  }
  return out;
}

PyObject* fp_close(FastPath* self, PyObject*) {
  release(self);
  Py_RETURN_NONE;
}

PyMethodDef fp_methods[] = {
    {"answer", reinterpret_cast<PyCFunction>(fp_answer), METH_O,
     "answer(lines) -> (answers, leftovers, {answer id: count})"},
    {"take_refusals", reinterpret_cast<PyCFunction>(fp_take_refusals), METH_NOARGS,
     "take_refusals() -> (b'client\\thost\\tanswer id\\n...', refusals not listed)"},
    {"teach_client", reinterpret_cast<PyCFunction>(fp_teach_client), METH_VARARGS,
     "teach_client(client: bytes, group: int): the group whose answers the client gets"},
    {"teach_answer", reinterpret_cast<PyCFunction>(fp_teach_answer), METH_VARARGS,
     "teach_answer(group, mask, id, words, refusal): the answer for a category mask"},
    {"set_named", reinterpret_cast<PyCFunction>(fp_set_named), METH_O,
     "set_named(hosts): hosts (and subdomains) always left to Python"},
    {"clear_clients", reinterpret_cast<PyCFunction>(fp_clear_clients), METH_NOARGS,
     "forget every client's group"},
    {"clear_answers", reinterpret_cast<PyCFunction>(fp_clear_answers), METH_NOARGS,
     "forget every answer taught"},
    {"categories", reinterpret_cast<PyCFunction>(fp_categories), METH_VARARGS,
     "categories(host, path) -> relevant mask, or None for a host left to Python"},
    {"close", reinterpret_cast<PyCFunction>(fp_close), METH_NOARGS,
     "release the index sections (answer() then raises ValueError)"},
    {nullptr, nullptr, 0, nullptr}};

PyType_Slot fp_slots[] = {
    {Py_tp_doc, const_cast<char*>("Answers already-decided request lines from the mapped index.")},
    {Py_tp_new, reinterpret_cast<void*>(PyType_GenericNew)},
    {Py_tp_init, reinterpret_cast<void*>(fp_init)},
    {Py_tp_dealloc, reinterpret_cast<void*>(fp_dealloc)},
    {Py_tp_methods, fp_methods},
    {0, nullptr}};

PyType_Spec fp_spec = {"filtering._fastpath.FastPath", sizeof(FastPath), 0, Py_TPFLAGS_DEFAULT,
                       fp_slots};

// The sites filter's two sides: the compiler adds sites to a bytearray, a test asks.
bool filter_args(PyObject* args, int flags, Py_buffer* filter, Py_buffer* sites) {
  if (!PyArg_ParseTuple(args, flags & PyBUF_WRITABLE ? "w*y*" : "y*y*", filter, sites))
    return false;
  size_t block = kBlockWords * sizeof(uint64_t);
  if (filter->len == 0 || filter->len % block ||
      reinterpret_cast<uintptr_t>(filter->buf) % alignof(uint64_t)) {
    PyBuffer_Release(filter);
    PyBuffer_Release(sites);
    PyErr_SetString(PyExc_ValueError, "the sites filter is not whole aligned blocks");
    return false;
  }
  return true;
}

// add_sites(filter, b"site\nsite\n..."): each newline-ended site added to ``filter``.
PyObject* fp_add_sites(PyObject*, PyObject* args) {
  Py_buffer filter, sites;
  if (!filter_args(args, PyBUF_WRITABLE, &filter, &sites)) return nullptr;
  auto* words = static_cast<uint64_t*>(filter.buf);
  size_t blocks = static_cast<size_t>(filter.len) / (kBlockWords * sizeof(uint64_t));
  std::string_view text(static_cast<const char*>(sites.buf), static_cast<size_t>(sites.len));
  while (!text.empty()) {
    size_t end = text.find('\n');
    if (end == std::string_view::npos) end = text.size();
    site_bits(words, blocks, text.substr(0, end), true);
    text.remove_prefix(std::min(end + 1, text.size()));
  }
  PyBuffer_Release(&filter);
  PyBuffer_Release(&sites);
  Py_RETURN_NONE;
}

// may_hold(filter, site) -> False when ``site`` is certainly not in ``filter``.
PyObject* fp_may_hold(PyObject*, PyObject* args) {
  Py_buffer filter, site;
  if (!filter_args(args, 0, &filter, &site)) return nullptr;
  bool maybe = site_bits(static_cast<uint64_t*>(filter.buf),
                         static_cast<size_t>(filter.len) / (kBlockWords * sizeof(uint64_t)),
                         std::string_view(static_cast<const char*>(site.buf),
                                          static_cast<size_t>(site.len)), false);
  PyBuffer_Release(&filter);
  PyBuffer_Release(&site);
  return PyBool_FromLong(maybe);
}

PyMethodDef module_methods[] = {
    {"add_sites", fp_add_sites, METH_VARARGS,
     "add_sites(filter: bytearray, sites: bytes): add newline-separated sites to the filter"},
    {"may_hold", fp_may_hold, METH_VARARGS,
     "may_hold(filter, site: bytes) -> False when the site is certainly not in the filter"},
    {nullptr, nullptr, 0, nullptr}};

PyModuleDef module = {PyModuleDef_HEAD_INIT, "filtering._fastpath",
                      "The filtering helper's compiled fast lane (see filtering/fastpath.py).",
                      -1, module_methods, nullptr, nullptr, nullptr, nullptr};

}  // namespace

PyMODINIT_FUNC PyInit__fastpath(void) {
  PyObject* m = PyModule_Create(&module);
  if (!m) return nullptr;
  PyObject* type = PyType_FromSpec(&fp_spec);
  if (!type || PyModule_AddObject(m, "FastPath", type) < 0) {
    Py_XDECREF(type);
    Py_DECREF(m);
    return nullptr;
  }
  return m;
}
