using System.Globalization;
using AmbientDiffusion.Torch.Native;

namespace AmbientDiffusion.Torch;

public static partial class torch
{
    /// <summary>Collectives across processes over libtorch's c10d, shaped like <c>torch.distributed</c>.</summary>
    public static partial class distributed
    {
        /// <summary>The collective backend: Gloo for CPU tensors, NCCL for CUDA tensors.</summary>
        public enum Backend
        {
            /// <summary>Gloo over TCP: CPU tensors.</summary>
            Gloo = 0,

            /// <summary>NCCL: CUDA tensors, only where libtorch was built with it.</summary>
            Nccl = 1,
        }

        /// <summary>The reduction of <see cref="ProcessGroup.all_reduce"/>.</summary>
        public enum ReduceOp
        {
            /// <summary>The sum over ranks.</summary>
            Sum,

            /// <summary>The sum over ranks divided by the world size.</summary>
            Avg,
        }

        /// <summary>Whether this build of the shim has <paramref name="backend"/>.</summary>
        public static bool is_available(Backend backend) => NativeMethods.Check(NativeMethods.ad_dist_has_backend((int)backend), "dist_has_backend") == 1;

        /// <summary>The backend for tensors on <paramref name="device"/>.</summary>
        public static Backend BackendFor(Device device) => device.Type == DeviceType.CUDA ? Backend.Nccl : Backend.Gloo;

        /// <summary>
        /// A group of processes that reduce and broadcast tensors together. Rank 0 serves a TCP rendezvous store at
        /// the master address and port; every step (the rendezvous included) fails after the timeout with a
        /// <see cref="TorchException"/> naming the operation and the rank ("all_reduce on rank 1 of 2 failed after
        /// 30.0 s: ..."), never a hang. Every process must call the collectives in the same order.
        /// </summary>
        public sealed class ProcessGroup : IDisposable
        {
            private IntPtr _handle;

            private ProcessGroup(IntPtr handle, int rank, int worldSize, Backend backend, TimeSpan timeout)
            {
                (_handle, Rank, WorldSize, Backend, Timeout) = (handle, rank, worldSize, backend, timeout);
            }

            /// <summary>Joins the group of <paramref name="worldSize"/> processes that rendezvous at
            /// <paramref name="masterAddress"/>:<paramref name="masterPort"/>, served by rank 0 unless
            /// <paramref name="serveStore"/> is false (a launcher serves it).</summary>
            public static ProcessGroup Init(string masterAddress, int masterPort, int rank, int worldSize, Backend backend, TimeSpan timeout, bool serveStore = true)
            {
                torch.Initialize();
                if (timeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "the timeout must be positive");
                var handle = NativeMethods.Check(NativeMethods.ad_dist_init(masterAddress, masterPort, rank, worldSize, (int)backend, (long)Math.Ceiling(timeout.TotalMilliseconds), serveStore ? 1 : 0), "init_process_group");
                return new ProcessGroup(handle, rank, worldSize, backend, timeout);
            }

            /// <summary>Joins the group that torchrun's variables describe (see <see cref="LaunchEnvironment"/>);
            /// <paramref name="backend"/> defaults to Gloo.</summary>
            public static ProcessGroup InitFromEnvironment(TimeSpan timeout, Backend backend = Backend.Gloo, Func<string, string?>? read = null) =>
                Init(LaunchEnvironment.Read(read), timeout, backend);

            /// <summary>Joins the group that <paramref name="environment"/> describes.</summary>
            public static ProcessGroup Init(LaunchEnvironment environment, TimeSpan timeout, Backend backend = Backend.Gloo) =>
                Init(environment.MasterAddress, environment.MasterPort, environment.Rank, environment.WorldSize, backend, timeout, !environment.LauncherServesStore);

            /// <summary>This process's rank.</summary>
            public int Rank { get; }

            /// <summary>The number of processes.</summary>
            public int WorldSize { get; }

            /// <summary>The backend.</summary>
            public Backend Backend { get; }

            /// <summary>How long any collective may take before it fails.</summary>
            public TimeSpan Timeout { get; }

            private IntPtr Handle => _handle != IntPtr.Zero ? _handle : throw new ObjectDisposedException(nameof(ProcessGroup));

            /// <summary>Replaces <paramref name="tensor"/> (contiguous) in place by its reduction over all ranks.</summary>
            public void all_reduce(Tensor tensor, ReduceOp op = ReduceOp.Sum) =>
                NativeMethods.Check(NativeMethods.ad_dist_all_reduce(Handle, tensor.Handle, op == ReduceOp.Avg ? 1 : 0), "all_reduce");

            /// <summary>Copies <paramref name="src"/>'s <paramref name="tensor"/> (contiguous) in place to every rank.</summary>
            public void broadcast(Tensor tensor, int src = 0) =>
                NativeMethods.Check(NativeMethods.ad_dist_broadcast(Handle, tensor.Handle, src), "broadcast");

            /// <summary>Returns once every rank has called it, failing after <paramref name="timeout"/> (default: the
            /// group's). A longer timeout lets ranks wait while rank 0 prepares data; a peer that dies still fails it at once.</summary>
            public void barrier(TimeSpan? timeout = null) =>
                NativeMethods.Check(NativeMethods.ad_dist_barrier(Handle, timeout is { } t ? (long)Math.Ceiling(t.TotalMilliseconds) : 0), "barrier");

            /// <inheritdoc />
            public override string ToString() =>
                string.Create(CultureInfo.InvariantCulture, $"rank {Rank} of {WorldSize} ({Backend}, timeout {Timeout.TotalSeconds:0.#} s)");

            /// <inheritdoc />
            public void Dispose()
            {
                var handle = Interlocked.Exchange(ref _handle, IntPtr.Zero);
                if (handle != IntPtr.Zero) NativeMethods.ad_dist_free(handle);
            }
        }
    }
}
