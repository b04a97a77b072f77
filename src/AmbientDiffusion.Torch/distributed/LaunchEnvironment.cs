using System.Globalization;

namespace AmbientDiffusion.Torch;

public static partial class torch
{
    public static partial class distributed
    {
        /// <summary>
        /// A worker's place in a data-parallel job, read from torchrun's variables: RANK, WORLD_SIZE, LOCAL_RANK,
        /// MASTER_ADDR and MASTER_PORT. torchrun, SLURM's srun (with those variables exported) and <c>ambient launch</c>
        /// all set them, so any of them starts the same program.
        /// </summary>
        /// <param name="Rank">This worker's index in 0..WorldSize-1.</param>
        /// <param name="WorldSize">The number of workers.</param>
        /// <param name="LocalRank">This worker's index on its machine (picks its GPU).</param>
        /// <param name="MasterAddress">The host of rank 0, which serves the rendezvous store.</param>
        /// <param name="MasterPort">The rendezvous port on that host.</param>
        public sealed record LaunchEnvironment(int Rank, int WorldSize, int LocalRank, string MasterAddress, int MasterPort)
        {
            /// <summary>The variable names, as torchrun sets them.</summary>
            public const string RankVariable = "RANK", WorldSizeVariable = "WORLD_SIZE", LocalRankVariable = "LOCAL_RANK",
                MasterAddressVariable = "MASTER_ADDR", MasterPortVariable = "MASTER_PORT";

            /// <summary>Set to "True" by torchrun when its agent already serves the store at MASTER_PORT.</summary>
            public const string AgentStoreVariable = "TORCHELASTIC_USE_AGENT_STORE";

            /// <summary>Whether the launcher serves the rendezvous store (torchrun's agent store), so that rank 0 must not.</summary>
            public bool LauncherServesStore { get; init; }

            /// <summary>Whether this process was started as a worker of a job (WORLD_SIZE is set).</summary>
            public static bool IsPresent(Func<string, string?>? read = null) =>
                !string.IsNullOrEmpty((read ?? Environment.GetEnvironmentVariable)(WorldSizeVariable));

            /// <summary>Reads and checks the variables (<paramref name="read"/> defaults to the process environment).
            /// A missing or invalid one throws an <see cref="ArgumentException"/> naming it and what was expected.</summary>
            public static LaunchEnvironment Read(Func<string, string?>? read = null)
            {
                read ??= Environment.GetEnvironmentVariable;
                var worldSize = Integer(read, WorldSizeVariable, 1, int.MaxValue, null);
                var rank = Integer(read, RankVariable, 0, worldSize - 1, null);
                var localRank = Integer(read, LocalRankVariable, 0, worldSize - 1, rank);
                var address = read(MasterAddressVariable);
                if (string.IsNullOrWhiteSpace(address))
                {
                    if (worldSize > 1) throw Missing(MasterAddressVariable, "the host name or address of rank 0");
                    address = "127.0.0.1";
                }
                var port = worldSize > 1 || !string.IsNullOrEmpty(read(MasterPortVariable))
                    ? Integer(read, MasterPortVariable, 1, 65535, null)
                    : 29500;
                return new LaunchEnvironment(rank, worldSize, localRank, address.Trim(), port)
                {
                    LauncherServesStore = string.Equals(read(AgentStoreVariable), "True", StringComparison.OrdinalIgnoreCase),
                };
            }

            /// <summary>The variables that start this worker (for launchers).</summary>
            public IReadOnlyDictionary<string, string> ToVariables() => new Dictionary<string, string>
            {
                [RankVariable] = Rank.ToString(CultureInfo.InvariantCulture),
                [WorldSizeVariable] = WorldSize.ToString(CultureInfo.InvariantCulture),
                [LocalRankVariable] = LocalRank.ToString(CultureInfo.InvariantCulture),
                [MasterAddressVariable] = MasterAddress,
                [MasterPortVariable] = MasterPort.ToString(CultureInfo.InvariantCulture),
            };

            private static int Integer(Func<string, string?> read, string name, int min, int max, int? fallback)
            {
                var text = read(name);
                if (string.IsNullOrWhiteSpace(text))
                    return fallback ?? throw Missing(name, min == max ? $"{min}" : $"an integer in {min}..{max}");
                if (!int.TryParse(text.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
                    throw new ArgumentException($"environment variable {name}='{text}' is invalid: expected an integer in {min}..{max}");
                return value;
            }

            private static ArgumentException Missing(string name, string expected) =>
                new($"environment variable {name} is not set: expected {expected} (set by torchrun, srun with the torchrun variables, or `ambient launch`)");
        }
    }
}
