namespace AmbientDiffusion.Torch;

public static partial class torch
{
    /// <summary>Layers, modules and their functional forms, as <c>torch.nn</c>.</summary>
    public static partial class nn
    {
        /// <summary>
        /// Base of every layer and network, as <c>torch.nn.Module</c>: named parameters, buffers and submodules in
        /// registration order, state dicts, train/eval mode. Parameters and buffers live outside dispose scopes and
        /// are freed when the module is disposed.
        /// </summary>
        public abstract class Module : IDisposable
        {
            private readonly List<KeyValuePair<string, Parameter>> _parameters = new();
            private readonly List<KeyValuePair<string, Tensor>> _buffers = new();
            private readonly List<KeyValuePair<string, Module>> _modules = new();

            /// <summary>Whether the module is in training mode (dropout active).</summary>
            public bool training { get; private set; } = true;

            /// <summary>Registers a parameter under <paramref name="name"/> and returns it.</summary>
            protected Parameter register_parameter(string name, Parameter parameter)
            {
                EnsureNewName(name);
                _parameters.Add(new(name, parameter));
                return parameter;
            }

            /// <summary>Registers a non-trainable tensor (saved in the state dict); the module takes ownership.</summary>
            protected Tensor register_buffer(string name, Tensor buffer)
            {
                EnsureNewName(name);
                _buffers.Add(new(name, buffer.DetachFromDisposeScope()));
                return buffer;
            }

            /// <summary>Registers a submodule under <paramref name="name"/> and returns it.</summary>
            protected T register_module<T>(string name, T module) where T : Module
            {
                EnsureNewName(name);
                _modules.Add(new(name, module));
                return module;
            }

            private void EnsureNewName(string name)
            {
                if (string.IsNullOrEmpty(name) || name.Contains('.', StringComparison.Ordinal))
                    throw new ArgumentException($"invalid member name '{name}': non-empty, without dots", nameof(name));
                if (_parameters.Any(p => p.Key == name) || _buffers.Any(b => b.Key == name) || _modules.Any(m => m.Key == name))
                    throw new ArgumentException($"'{name}' is already registered in {GetType().Name}", nameof(name));
            }

            /// <summary>Direct submodules in registration order.</summary>
            public IEnumerable<(string name, Module module)> named_children() => _modules.Select(m => (m.Key, m.Value));

            /// <summary>Every parameter of this module and its descendants, with dotted names.</summary>
            public IEnumerable<(string name, Parameter parameter)> named_parameters(bool recurse = true)
            {
                foreach (var (name, p) in _parameters) yield return (name, p);
                if (!recurse) yield break;
                foreach (var (prefix, m) in _modules)
                    foreach (var (name, p) in m.named_parameters()) yield return ($"{prefix}.{name}", p);
            }

            /// <summary>Every parameter, in <see cref="named_parameters"/> order.</summary>
            public IEnumerable<Parameter> parameters(bool recurse = true) => named_parameters(recurse).Select(p => p.parameter);

            /// <summary>Every buffer of this module and its descendants, with dotted names.</summary>
            public IEnumerable<(string name, Tensor buffer)> named_buffers(bool recurse = true)
            {
                foreach (var (name, b) in _buffers) yield return (name, b);
                if (!recurse) yield break;
                foreach (var (prefix, m) in _modules)
                    foreach (var (name, b) in m.named_buffers()) yield return ($"{prefix}.{name}", b);
            }

            /// <summary>Number of trainable scalars.</summary>
            public long parameter_count() => parameters().Sum(p => p.numel());

            /// <summary>Parameters and buffers by dotted name. The tensors are the module's own, not copies.</summary>
            public Dictionary<string, Tensor> state_dict()
            {
                var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
                foreach (var (name, p) in named_parameters()) result.Add(name, p);
                foreach (var (name, b) in named_buffers()) result.Add(name, b);
                return result;
            }

            /// <summary>
            /// Copies values into the parameters and buffers. With <paramref name="strict"/>, missing or unexpected keys
            /// are errors; shapes must always match. Nothing is copied unless every entry is valid.
            /// </summary>
            public void load_state_dict(IReadOnlyDictionary<string, Tensor> state, bool strict = true)
            {
                var own = state_dict();
                if (strict)
                {
                    var missing = own.Keys.Where(k => !state.ContainsKey(k)).ToList();
                    var unexpected = state.Keys.Where(k => !own.ContainsKey(k)).ToList();
                    if (missing.Count > 0 || unexpected.Count > 0)
                        throw new ArgumentException($"state dict does not match {GetType().Name}: missing [{string.Join(", ", missing)}], unexpected [{string.Join(", ", unexpected)}]");
                }
                foreach (var (name, target) in own)
                {
                    if (!state.TryGetValue(name, out var source)) continue;
                    var (expected, actual) = (target.shape, source.shape);
                    if (!expected.SequenceEqual(actual))
                        throw new ArgumentException($"state dict entry '{name}' has shape [{string.Join(", ", actual)}], the module expects [{string.Join(", ", expected)}]");
                }
                using var noGrad = no_grad();
                foreach (var (name, target) in own)
                    if (state.TryGetValue(name, out var source)) target.copy_(source);
            }

            /// <summary>Sets training mode on this module and every descendant.</summary>
            public Module train(bool mode = true)
            {
                training = mode;
                foreach (var (_, m) in _modules) m.train(mode);
                return this;
            }

            /// <summary>Sets evaluation mode (dropout off).</summary>
            public Module eval() => train(false);

            /// <summary>Moves every parameter and buffer to <paramref name="device"/> in place (parameters keep their identity).</summary>
            public Module to(Device device)
            {
                foreach (var t in parameters().Cast<Tensor>().Concat(named_buffers().Select(b => b.buffer)))
                {
                    using var scope = NewDisposeScope();
                    t.set_data(t.to(device));
                }
                return this;
            }

            /// <summary>Sets every parameter's gradient to zero (keeping the gradient tensors).</summary>
            public void zero_grad()
            {
                using var scope = NewDisposeScope();
                foreach (var p in parameters()) p.grad?.zero_();
            }

            /// <summary>Frees parameters, buffers and submodules.</summary>
            public void Dispose()
            {
                foreach (var (_, p) in _parameters) p.Dispose();
                foreach (var (_, b) in _buffers) b.Dispose();
                foreach (var (_, m) in _modules) m.Dispose();
                GC.SuppressFinalize(this);
            }
        }

        /// <summary>A module with a typed forward pass.</summary>
        public abstract class Module<TIn, TOut> : Module
        {
            /// <summary>The forward computation.</summary>
            public abstract TOut forward(TIn input);

            /// <summary>Runs <see cref="forward"/>.</summary>
            public TOut call(TIn input) => forward(input);
        }
    }
}
