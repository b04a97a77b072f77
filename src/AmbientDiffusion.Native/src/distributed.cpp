// Data-parallel collectives over libtorch's c10d: a TCPStore rendezvous (rank 0 serves it) and a Gloo (CPU) or
// NCCL (CUDA, when this libtorch has it) process group. Only API present in both libtorch 1.13 and 2.x is used:
// in 1.13 ProcessGroupGloo/NCCL derive from ProcessGroup, in 2.x from Backend; both keep the constructor
// (store, rank, size, options) and the collectives allreduce/broadcast/barrier returning a Work to wait on.
//
// Every collective is waited with the group's timeout, and every failure is rethrown as
// "<op> on rank R of W failed after S s: <cause>" so that a lost peer names itself in the survivor's error.
#include "common.h"

#include <chrono>
#include <cstdio>
#include <memory>

#if AD_HAVE_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#if AD_HAVE_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <cstdlib>

namespace {

enum Backend : int32_t { kGloo = 0, kNccl = 1 };

// The collectives of one backend behind one interface, so that the exports never branch on the backend.
struct Collectives {
    virtual ~Collectives() = default;
    virtual c10::intrusive_ptr<c10d::Work> allreduce(std::vector<at::Tensor>& tensors) = 0;
    virtual c10::intrusive_ptr<c10d::Work> broadcast(std::vector<at::Tensor>& tensors, int64_t root) = 0;
    virtual c10::intrusive_ptr<c10d::Work> barrier(std::chrono::milliseconds timeout) = 0;
};

template <typename Group>
struct GroupCollectives final : Collectives {
    explicit GroupCollectives(c10::intrusive_ptr<Group> g) : group(std::move(g)) {}
    c10::intrusive_ptr<c10d::Work> allreduce(std::vector<at::Tensor>& tensors) override {
        c10d::AllreduceOptions options;
        options.reduceOp = c10d::ReduceOp::SUM;
        return group->allreduce(tensors, options);
    }
    c10::intrusive_ptr<c10d::Work> broadcast(std::vector<at::Tensor>& tensors, int64_t root) override {
        c10d::BroadcastOptions options;
        options.rootRank = root;
        return group->broadcast(tensors, options);
    }
    c10::intrusive_ptr<c10d::Work> barrier(std::chrono::milliseconds timeout) override {
        c10d::BarrierOptions options;
        options.timeout = timeout;
        return group->barrier(options);
    }
    c10::intrusive_ptr<Group> group;
};

struct ProcessGroup {
    c10::intrusive_ptr<c10d::Store> store;
    std::unique_ptr<Collectives> collectives;
    int32_t rank = 0;
    int32_t world_size = 1;
    std::chrono::milliseconds timeout{0};
};

ProcessGroup& get_group(ad_process_group handle) {
    if (handle == nullptr) throw std::invalid_argument("null process group handle");
    return *reinterpret_cast<ProcessGroup*>(handle);
}

std::string seconds_text(std::chrono::steady_clock::time_point start) {
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    char text[32];
    std::snprintf(text, sizeof text, "%.1f s", s);
    return text;
}

std::string cause_of(const std::exception_ptr& error) {
    try {
        std::rethrow_exception(error);
    } catch (const c10::Error& e) {
        return e.what_without_backtrace();
    } catch (const std::exception& e) {
        return e.what();
    } catch (...) {
        return "unknown C++ exception";
    }
}

// Runs a collective (or the rendezvous) and rewrites any failure so that it names the operation and the rank.
template <typename Body>
void named(const char* op, int32_t rank, int32_t world_size, Body&& body) {
    const auto start = std::chrono::steady_clock::now();
    try {
        body();
    } catch (...) {
        throw std::runtime_error(std::string(op) + " on rank " + std::to_string(rank) + " of " + std::to_string(world_size) +
                                 " failed after " + seconds_text(start) + ": " + cause_of(std::current_exception()));
    }
}

void wait(const c10::intrusive_ptr<c10d::Work>& work, std::chrono::milliseconds timeout) {
    if (!work->wait(timeout)) throw std::runtime_error("timed out");
}

// The address this process's Gloo transport binds to: the interface named by GLOO_SOCKET_IFNAME (as PyTorch reads
// it), loopback for a job on one machine, otherwise the address of this machine's hostname (never the master's).
std::shared_ptr<::gloo::transport::Device> gloo_device(const std::string& master) {
    if (const char* interface = std::getenv("GLOO_SOCKET_IFNAME"); interface != nullptr && *interface != '\0')
        return c10d::ProcessGroupGloo::createDeviceForInterface(interface);
    if (master == "localhost" || master.rfind("127.", 0) == 0) return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
    return c10d::ProcessGroupGloo::createDefaultDevice();
}

std::unique_ptr<Collectives> make_collectives(int32_t backend, const c10::intrusive_ptr<c10d::Store>& store,
                                              const std::string& host, int32_t rank, int32_t world_size,
                                              std::chrono::milliseconds timeout) {
    switch (backend) {
        case kGloo: {
#if AD_HAVE_GLOO
            auto options = c10d::ProcessGroupGloo::Options::create(timeout);
            options->devices.push_back(gloo_device(host));
            options->threads = 2;
            return std::make_unique<GroupCollectives<c10d::ProcessGroupGloo>>(
                c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, world_size, options));
#else
            throw std::runtime_error("this build of libambient_native has no Gloo (the gloo headers were missing at build time: apt-get install libgloo-dev and rebuild)");
#endif
        }
        case kNccl: {
#if AD_HAVE_NCCL
            auto options = c10d::ProcessGroupNCCL::Options::create();
            options->timeout = timeout;
            return std::make_unique<GroupCollectives<c10d::ProcessGroupNCCL>>(
                c10::make_intrusive<c10d::ProcessGroupNCCL>(store, rank, world_size, options));
#else
            throw std::runtime_error("this libtorch has no NCCL (a CPU build): use the gloo backend");
#endif
        }
        default:
            throw std::invalid_argument("unknown backend code " + std::to_string(backend) + " (0 gloo, 1 nccl)");
    }
}

}  // namespace

extern "C" {

AD_API int32_t ad_dist_has_backend(int32_t backend) {
    AD_GUARD(-1, switch (backend) {
        case kGloo: return AD_HAVE_GLOO ? 1 : 0;
        case kNccl: return AD_HAVE_NCCL ? 1 : 0;
        default: throw std::invalid_argument("unknown backend code " + std::to_string(backend));
    })
}

AD_API ad_process_group ad_dist_init(const char* master_addr, int32_t master_port, int32_t rank, int32_t world_size,
                                     int32_t backend, int64_t timeout_ms, int32_t serve_store) {
    AD_GUARD(nullptr,
             if (master_addr == nullptr || *master_addr == '\0') throw std::invalid_argument("empty master address");
             if (master_port < 1 || master_port > 65535) throw std::invalid_argument("master port must lie in 1..65535");
             if (world_size < 1) throw std::invalid_argument("world size must be at least 1");
             if (rank < 0 || rank >= world_size) throw std::invalid_argument("rank must lie in 0..world_size-1");
             if (timeout_ms < 1) throw std::invalid_argument("timeout must be positive");
             auto group = std::make_unique<ProcessGroup>();
             group->rank = rank;
             group->world_size = world_size;
             group->timeout = std::chrono::milliseconds(timeout_ms);
             const std::string host(master_addr);
             const std::string where = "init (rendezvous at " + host + ":" + std::to_string(master_port) + ")";
             named(where.c_str(), rank, world_size, [&] {
                 c10d::TCPStoreOptions options;
                 options.port = static_cast<uint16_t>(master_port);
                 // torchrun (2.x) may already serve a store on MASTER_PORT from its agent; then every rank is a client.
                 options.isServer = serve_store != 0 && rank == 0;
                 options.numWorkers = static_cast<size_t>(world_size);
                 options.waitWorkers = true;
                 options.timeout = group->timeout;
                 // Our keys under a prefix of their own, apart from whatever else shares the store.
                 group->store = c10::make_intrusive<c10d::PrefixStore>("ambient/", c10::make_intrusive<c10d::TCPStore>(host, options));
                 group->collectives = make_collectives(backend, group->store, host, rank, world_size, group->timeout);
             });
             return reinterpret_cast<ad_process_group>(group.release());)
}

AD_API void ad_dist_free(ad_process_group pg) {
    try {
        delete reinterpret_cast<ProcessGroup*>(pg);
    } catch (...) {
        // Tearing down a group whose peers are gone must never take the process with it.
    }
}

AD_API int32_t ad_dist_all_reduce(ad_process_group pg, ad_tensor tensor, int32_t average) {
    AD_GUARD(-1, auto& group = get_group(pg); auto& t = ad::get(tensor);
             if (!t.is_contiguous()) throw std::invalid_argument("all_reduce needs a contiguous tensor");
             named("all_reduce", group.rank, group.world_size, [&] {
                 std::vector<at::Tensor> tensors{t};
                 wait(group.collectives->allreduce(tensors), group.timeout);
             });
             if (average != 0 && group.world_size > 1) t.div_(group.world_size);
             return 0;)
}

AD_API int32_t ad_dist_broadcast(ad_process_group pg, ad_tensor tensor, int32_t root) {
    AD_GUARD(-1, auto& group = get_group(pg); auto& t = ad::get(tensor);
             if (!t.is_contiguous()) throw std::invalid_argument("broadcast needs a contiguous tensor");
             if (root < 0 || root >= group.world_size) throw std::invalid_argument("broadcast root out of range");
             named("broadcast", group.rank, group.world_size, [&] {
                 std::vector<at::Tensor> tensors{t};
                 wait(group.collectives->broadcast(tensors, root), group.timeout);
             });
             return 0;)
}

AD_API int32_t ad_dist_barrier(ad_process_group pg, int64_t timeout_ms) {
    AD_GUARD(-1, auto& group = get_group(pg);
             const auto timeout = timeout_ms > 0 ? std::chrono::milliseconds(timeout_ms) : group.timeout;
             named("barrier", group.rank, group.world_size, [&] { wait(group.collectives->barrier(timeout), timeout); });
             return 0;)
}

}  // extern "C"
