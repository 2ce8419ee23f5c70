// Handler defaults, request dispatch and version negotiation; see handler.h.
#include "zerofs/ninep/handler.h"

#include <algorithm>
#include <cerrno>
#include <exception>
#include <type_traits>

#include "zerofs/common/log.h"
#include "zerofs/ninep/codec.h"

namespace zerofs::ninep {

Answer<Rclunk> Handler::Clunk(RequestContext& ctx, const Tclunk& req) {
  if (ctx.fids.Remove(req.fid) == nullptr) return Errno{EBADF};
  return Rclunk{};
}

#define ZEROFS_NINEP_UNSUPPORTED(R, Name, T)           \
  Answer<R> Handler::Name(RequestContext&, const T&) { \
    return Errno{EOPNOTSUPP};                          \
  }
ZEROFS_NINEP_UNSUPPORTED(Rsetattr, Setattr, Tsetattr)
ZEROFS_NINEP_UNSUPPORTED(Rlopen, Lopen, Tlopen)
ZEROFS_NINEP_UNSUPPORTED(Rlcreate, Lcreate, Tlcreate)
ZEROFS_NINEP_UNSUPPORTED(Rread, Read, Tread)
ZEROFS_NINEP_UNSUPPORTED(Rwrite, Write, Twrite)
ZEROFS_NINEP_UNSUPPORTED(Rreaddir, Readdir, Treaddir)
ZEROFS_NINEP_UNSUPPORTED(Rmkdir, Mkdir, Tmkdir)
ZEROFS_NINEP_UNSUPPORTED(Rmknod, Mknod, Tmknod)
ZEROFS_NINEP_UNSUPPORTED(Rsymlink, Symlink, Tsymlink)
ZEROFS_NINEP_UNSUPPORTED(Rreadlink, Readlink, Treadlink)
ZEROFS_NINEP_UNSUPPORTED(Rlink, Link, Tlink)
ZEROFS_NINEP_UNSUPPORTED(Runlinkat, Unlinkat, Tunlinkat)
ZEROFS_NINEP_UNSUPPORTED(Rrenameat, Renameat, Trenameat)
ZEROFS_NINEP_UNSUPPORTED(Rrename, Rename, Trename)
ZEROFS_NINEP_UNSUPPORTED(Rstatfs, Statfs, Tstatfs)
ZEROFS_NINEP_UNSUPPORTED(Rfsync, Fsync, Tfsync)
ZEROFS_NINEP_UNSUPPORTED(Rxattrwalk, Xattrwalk, Txattrwalk)
ZEROFS_NINEP_UNSUPPORTED(Rxattrcreate, Xattrcreate, Txattrcreate)
ZEROFS_NINEP_UNSUPPORTED(Rlock, Lock, Tlock)
ZEROFS_NINEP_UNSUPPORTED(Rgetlock, Getlock, Tgetlock)
#undef ZEROFS_NINEP_UNSUPPORTED

// Rlerror(ENOENT) to Tauth means "no authentication required": the convention of diod,
// whose client library (diodls, diodcat) treats any other error as fatal.
Answer<Rauth> Handler::Auth(RequestContext&, const Tauth&) {
  return Errno{ENOENT};
}

// Tremove clunks the fid whatever happens; the base class cannot remove anything.
Answer<Rremove> Handler::Remove(RequestContext& ctx, const Tremove& req) {
  if (ctx.fids.Remove(req.fid) == nullptr) return Errno{EBADF};
  return Errno{EOPNOTSUPP};
}

namespace {

template <typename R>
Reply ToReply(Answer<R> answer) {
  if (!answer.ok()) return Rlerror{answer.error()};
  return Reply(std::move(*answer));
}

Reply Route(Handler& h, RequestContext& ctx, const Request& request) {
  return std::visit(
      [&](const auto& req) -> Reply {
        using T = std::decay_t<decltype(req)>;
        if constexpr (std::is_same_v<T, Tversion> || std::is_same_v<T, Tflush>) {
          return Rlerror{EPROTO};
        } else if constexpr (std::is_same_v<T, Tauth>) {
          return ToReply(h.Auth(ctx, req));
        } else if constexpr (std::is_same_v<T, Tattach>) {
          return ToReply(h.Attach(ctx, req));
        } else if constexpr (std::is_same_v<T, Twalk>) {
          return ToReply(h.Walk(ctx, req));
        } else if constexpr (std::is_same_v<T, Tread>) {
          Tread clamped = req;
          clamped.count = std::min(req.count, ctx.iounit());
          return ToReply(h.Read(ctx, clamped));
        } else if constexpr (std::is_same_v<T, Twrite>) {
          return ToReply(h.Write(ctx, req));
        } else if constexpr (std::is_same_v<T, Tclunk>) {
          return ToReply(h.Clunk(ctx, req));
        } else if constexpr (std::is_same_v<T, Tremove>) {
          return ToReply(h.Remove(ctx, req));
        } else if constexpr (std::is_same_v<T, Tstatfs>) {
          return ToReply(h.Statfs(ctx, req));
        } else if constexpr (std::is_same_v<T, Tlopen>) {
          return ToReply(h.Lopen(ctx, req));
        } else if constexpr (std::is_same_v<T, Tlcreate>) {
          return ToReply(h.Lcreate(ctx, req));
        } else if constexpr (std::is_same_v<T, Tsymlink>) {
          return ToReply(h.Symlink(ctx, req));
        } else if constexpr (std::is_same_v<T, Tmknod>) {
          return ToReply(h.Mknod(ctx, req));
        } else if constexpr (std::is_same_v<T, Trename>) {
          return ToReply(h.Rename(ctx, req));
        } else if constexpr (std::is_same_v<T, Treadlink>) {
          return ToReply(h.Readlink(ctx, req));
        } else if constexpr (std::is_same_v<T, Tgetattr>) {
          return ToReply(h.Getattr(ctx, req));
        } else if constexpr (std::is_same_v<T, Tsetattr>) {
          return ToReply(h.Setattr(ctx, req));
        } else if constexpr (std::is_same_v<T, Txattrwalk>) {
          return ToReply(h.Xattrwalk(ctx, req));
        } else if constexpr (std::is_same_v<T, Txattrcreate>) {
          return ToReply(h.Xattrcreate(ctx, req));
        } else if constexpr (std::is_same_v<T, Treaddir>) {
          Treaddir clamped = req;
          clamped.count = std::min(req.count, ctx.iounit());
          return ToReply(h.Readdir(ctx, clamped));
        } else if constexpr (std::is_same_v<T, Tfsync>) {
          return ToReply(h.Fsync(ctx, req));
        } else if constexpr (std::is_same_v<T, Tlock>) {
          return ToReply(h.Lock(ctx, req));
        } else if constexpr (std::is_same_v<T, Tgetlock>) {
          return ToReply(h.Getlock(ctx, req));
        } else if constexpr (std::is_same_v<T, Tlink>) {
          return ToReply(h.Link(ctx, req));
        } else if constexpr (std::is_same_v<T, Tmkdir>) {
          return ToReply(h.Mkdir(ctx, req));
        } else if constexpr (std::is_same_v<T, Trenameat>) {
          return ToReply(h.Renameat(ctx, req));
        } else {
          static_assert(std::is_same_v<T, Tunlinkat>, "every request type is routed");
          return ToReply(h.Unlinkat(ctx, req));
        }
      },
      request);
}

}  // namespace

Reply Dispatch(Handler& handler, RequestContext& ctx, const Request& request) {
  Reply reply;
  try {
    reply = Route(handler, ctx, request);
  } catch (const std::exception& e) {
    ZEROFS_LOG(kError) << "9p: " << MessageTypeName(TypeOf(request))
                       << " failed with an exception: " << e.what();
    return Rlerror{EIO};
  }
  if (EncodedReplyBytes(reply) > ctx.msize) {
    // A handler bug (a readdir ignoring count); the client could not parse the frame.
    ZEROFS_LOG(kError) << "9p: " << MessageTypeName(TypeOf(reply)) << " of "
                       << EncodedReplyBytes(reply) << " bytes exceeds msize " << ctx.msize;
    return Rlerror{EIO};
  }
  return reply;
}

Reply NegotiateVersion(const Tversion& request, std::uint32_t server_max_msize) {
  const std::uint32_t server_max = std::clamp(server_max_msize, kMinMsize, kMaxMsizeCap);
  if (request.version != kVersion9P2000L) {
    // version(5): a version the server does not speak is answered "unknown".
    return Rversion{std::min(request.msize, server_max), std::string(kVersionUnknown)};
  }
  if (request.msize < kMinMsize) return Rlerror{EINVAL};
  return Rversion{std::min(request.msize, server_max), std::string(kVersion9P2000L)};
}

}  // namespace zerofs::ninep
