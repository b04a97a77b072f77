using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Models;

/// <summary>EDM's Xavier-uniform initialisation, scaled: U(-a, a)·scale with a = √(6/(fan_in + fan_out)), drawn from an
/// explicit generator so that a seed fixes the initial weights.</summary>
internal static class WeightInit
{
    public static torch.nn.Parameter XavierUniform(long[] shape, long fanIn, long fanOut, double scale, Generator generator)
    {
        using var scope = torch.NewDisposeScope();
        var bound = Math.Sqrt(6.0 / (fanIn + fanOut));
        return new torch.nn.Parameter(torch.empty(shape).uniform_(-bound, bound, generator).mul_(scale));
    }

    public static torch.nn.Parameter Zeros(long[] shape)
    {
        using var scope = torch.NewDisposeScope();
        return new torch.nn.Parameter(torch.zeros(shape));
    }
}

/// <summary>A container of named submodules (PyTorch's ModuleDict): names like "64x64_block0" become part of the
/// parameter names, as in EDM.</summary>
internal sealed class ModuleDict : torch.nn.Module
{
    private readonly List<(string name, torch.nn.Module module)> _items = new();

    public T Add<T>(string name, T module) where T : torch.nn.Module
    {
        register_module(name, module);
        _items.Add((name, module));
        return module;
    }

    public IReadOnlyList<(string name, torch.nn.Module module)> Items => _items;
}
