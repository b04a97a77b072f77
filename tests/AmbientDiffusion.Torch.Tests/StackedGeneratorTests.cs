namespace AmbientDiffusion.Torch.Tests;

/// <summary>One generator per batch row: a row's numbers are its seed's, whatever batch it is drawn in.</summary>
public class StackedGeneratorTests
{
    [Fact]
    public void Each_row_draws_what_its_own_generator_draws_whatever_its_batch()
    {
        using var scope = torch.NewDisposeScope();
        using var pair = new StackedGenerator([3, 8]);
        using var alone = new StackedGenerator([8]);
        using var single = new Generator(3);
        var normals = pair.randn([2, 5]);
        var uniforms = pair.rand([4]);
        Assert.Equal([2L, 2, 5], normals.shape);
        Assert.Equal(torch.randn([2, 5], generator: single).data<float>(), normals[0].data<float>());
        Assert.Equal(torch.rand([4], generator: single).data<float>(), uniforms[0].data<float>());
        Assert.Equal(alone.randn([2, 5]).data<float>(), normals[1].data<float>());
        Assert.Equal(alone.rand([4]).data<float>(), uniforms[1].data<float>());
    }

    [Fact]
    public void Scalar_rows_stack_into_a_vector_and_an_empty_stack_is_refused()
    {
        using var scope = torch.NewDisposeScope();
        using var three = new StackedGenerator([1, 2, 3]);
        Assert.Equal([3L], three.randn([]).shape);
        using var none = new StackedGenerator([]);
        Assert.Contains("no rows", Assert.Throws<InvalidOperationException>(() => none.rand([2])).Message);
    }
}
