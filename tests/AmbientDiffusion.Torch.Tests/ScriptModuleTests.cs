namespace AmbientDiffusion.Torch.Tests;

/// <summary>
/// torch.jit.load and ScriptModule over the shim: keyword arguments, tuple/list outputs, no autograd graph, and errors
/// that name the file. Fixtures: tests/AmbientDiffusion.Tests/Fixtures/torchscript/make_fixtures.py.
/// </summary>
public class ScriptModuleTests
{
    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "torchscript", name);

    [Fact]
    public void Forward_passes_bool_keyword_arguments()
    {
        using var scope = torch.NewDisposeScope();
        using var module = torch.jit.load(Fixture("inception_like.pt"));
        using var generator = new Generator(3);
        var images = torch.randint(0, 256, [2, 3, 20, 24], ScalarType.Byte, generator: generator);
        var features = module.forward([images], new Dictionary<string, bool> { ["return_features"] = true });
        var logits = module.forward(images);
        Assert.Equal([2L, 64L], features.shape);
        Assert.Equal([2L, 10L], logits.shape);
        Assert.Equal(ScalarType.Float32, features.dtype);
    }

    [Fact]
    public void Tuple_and_list_outputs_give_their_first_tensor()
    {
        using var scope = torch.NewDisposeScope();
        using var tuple = torch.jit.load(Fixture("tuple_output.pt"));
        using var list = torch.jit.load(Fixture("list_output.pt"));
        var x = torch.tensor(new float[] { 1, 2, 3 });
        Assert.Equal(new float[] { 2, 4, 6 }, tuple.call(x).data<float>());
        Assert.Equal(new float[] { 2, 3, 4 }, list.forward(x).data<float>());
    }

    [Fact]
    public void Forward_records_no_autograd_graph()
    {
        using var scope = torch.NewDisposeScope();
        using var module = torch.jit.load(Fixture("tuple_output.pt"));
        var x = torch.ones([3]);
        x.requires_grad_(true);
        Assert.False(module.forward(x).requires_grad);
    }

    [Fact]
    public void A_non_tensor_output_is_an_error_naming_the_file()
    {
        using var scope = torch.NewDisposeScope();
        using var module = torch.jit.load(Fixture("string_output.pt"));
        var e = Assert.Throws<TorchException>(() => module.forward(torch.ones([2])));
        Assert.Equal("jit.forward", e.Operation);
        Assert.Contains("string_output.pt", e.Message);
        Assert.Contains("expected a tensor", e.Message);
    }

    [Fact]
    public void An_unknown_keyword_argument_is_an_error_naming_the_file_and_the_argument()
    {
        using var scope = torch.NewDisposeScope();
        using var module = torch.jit.load(Fixture("wrong_signature.pt"));
        var e = Assert.Throws<TorchException>(() => module.forward([torch.ones([1, 3, 4, 4])], new Dictionary<string, bool> { ["return_features"] = true }));
        Assert.Contains("wrong_signature.pt", e.Message);
        Assert.Contains("return_features", e.Message);
    }

    [Theory]
    [InlineData("missing.pt", "does not exist")]
    [InlineData("corrupt.pt", "is not a readable TorchScript archive")]
    [InlineData("not_torchscript.pt", "is not a readable TorchScript archive")]
    public void Unloadable_files_are_errors_naming_the_file(string name, string fragment)
    {
        var e = Assert.Throws<TorchException>(() => torch.jit.load(Fixture(name)));
        Assert.Equal("jit.load", e.Operation);
        Assert.Contains(name, e.Message);
        Assert.Contains(fragment, e.Message);
    }

    [Fact]
    public void Loading_and_calling_leave_no_tensors_behind()
    {
        var before = torch.live_tensors;
        for (var i = 0; i < 3; i++)
        {
            using var scope = torch.NewDisposeScope();
            using var module = torch.jit.load(Fixture("sscd_like.pt"));
            module.eval().to(Device.CPU).forward(torch.ones([1, 3, 40, 40]));
        }
        Assert.Equal(before, torch.live_tensors);
    }

    [Fact]
    public void A_disposed_module_refuses_calls()
    {
        var module = torch.jit.load(Fixture("tuple_output.pt"));
        module.Dispose();
        using var scope = torch.NewDisposeScope();
        Assert.Throws<ObjectDisposedException>(() => module.forward(torch.ones([1])));
    }
}
