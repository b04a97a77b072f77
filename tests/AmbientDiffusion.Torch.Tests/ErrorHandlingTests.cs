using F = AmbientDiffusion.Torch.torch.nn.functional;

namespace AmbientDiffusion.Torch.Tests;

/// <summary>
/// libtorch errors cross the C ABI as data: a <see cref="TorchException"/> naming the operation and carrying libtorch's
/// message without its C++ backtrace, and nothing leaks or breaks when they happen. Also the lifetime rules of
/// tensors and dispose scopes.
/// </summary>
public class ErrorHandlingTests
{
    /// <summary>A failing call: its inputs (made once) and the call itself.</summary>
    private sealed record ErrorCase(string Operation, string Fragment, Func<Tensor[]> Inputs, Action<Tensor[]> Fail);

    private static readonly Dictionary<string, ErrorCase> Cases = new(StringComparer.Ordinal)
    {
        // shape mismatches
        ["matmul [2,3]x[4,5]"] = new("matmul", "mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)",
            () => [torch.ones([2, 3]), torch.ones([4, 5])], t => torch.matmul(t[0], t[1])),
        ["linear wrong in_features"] = new("linear", "mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)",
            () => [torch.ones([2, 3]), torch.ones([5, 4])], t => F.linear(t[0], t[1])),
        ["bmm of 2-d tensors"] = new("bmm", "batch1 must be a 3D tensor",
            () => [torch.ones([2, 3]), torch.ones([3, 2])], t => torch.bmm(t[0], t[1])),
        ["conv2d wrong channel count"] = new("conv2d", "expected input[1, 3, 8, 8] to have 2 channels, but got 3 channels instead",
            () => [torch.ones([1, 3, 8, 8]), torch.ones([4, 2, 3, 3])], t => F.conv2d(t[0], t[1])),
        ["add non-broadcastable"] = new("add", "The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 1",
            () => [torch.ones([2, 3]), torch.ones([4])], t => _ = t[0] + t[1]),
        ["view of the wrong size"] = new("view", "shape '[4]' is invalid for input of size 6",
            () => [torch.ones([2, 3])], t => t[0].view(4)),
        ["cat of mismatched shapes"] = new("cat", "Sizes of tensors must match except in dimension 0",
            () => [torch.ones([2, 3]), torch.ones([2, 4])], t => torch.cat([t[0], t[1]])),
        ["expand to an incompatible size"] = new("expand", "The expanded size of the tensor (4) must match the existing size (3) at non-singleton dimension 1",
            () => [torch.ones([2, 3])], t => t[0].expand(2, 4)),
        ["group_norm with indivisible channels"] = new("group_norm", "Expected number of channels in input to be divisible by num_groups",
            () => [torch.ones([1, 6, 2, 2])], t => F.group_norm(t[0], 4)),
        ["layer_norm of the wrong shape"] = new("layer_norm", "Given normalized_shape=[5], expected input with shape [*, 5], but got input of size[2, 6]",
            () => [torch.ones([2, 6])], t => F.layer_norm(t[0], [5])),
        ["mse_loss of different shapes"] = new("mse_loss", "mse_loss needs equal shapes, got [2, 3] and [3, 2]",
            () => [torch.ones([2, 3]), torch.ones([3, 2])], t => F.mse_loss(t[0], t[1])),
        // wrong dtypes
        ["where with a float condition"] = new("where", "where expects a bool condition, got Float",
            () => [torch.ones([2]), torch.ones([2]), torch.ones([2])], t => torch.where(t[0], t[1], t[2])),
        ["index_select with a float index"] = new("index_select", "index_select(): Expected dtype int32 or int64 for index",
            () => [torch.ones([2, 3]), torch.zeros([2])], t => t[0].index_select(1, t[1])),
        ["gather with a float index"] = new("gather", "gather(): Expected dtype int64 for index",
            () => [torch.ones([2, 3]), torch.zeros([2, 2])], t => t[0].gather(1, t[1])),
        // out-of-range dims and indices
        ["sum over dim 5 of a 2-d tensor"] = new("sum", "Dimension out of range (expected to be in range of [-2, 1], but got 5)",
            () => [torch.ones([2, 3])], t => t[0].sum(5)),
        ["transpose with dim 3 of a 2-d tensor"] = new("transpose", "Dimension out of range (expected to be in range of [-2, 1], but got 3)",
            () => [torch.ones([2, 3])], t => t[0].transpose(0, 3)),
        ["narrow past the end"] = new("narrow", "start (2) + length (3) exceeds dimension size (4)",
            () => [torch.ones([2, 4])], t => t[0].narrow(1, 2, 3)),
        ["select past the end"] = new("select", "index 5 out of range for tensor of size [2, 3] at dimension 0",
            () => [torch.ones([2, 3])], t => t[0].select(0, 5)),
        // invalid arguments
        ["negative thread count"] = new("set_num_threads", "thread count must be at least 1",
            () => [], _ => torch.set_num_threads(-1)),
        ["bernoulli with p > 1"] = new("bernoulli_", "bernoulli probability must lie in [0, 1]",
            () => [torch.zeros([3])], t => t[0].bernoulli_(1.5)),
        ["dropout with p > 1"] = new("dropout", "dropout probability must lie in [0, 1]",
            () => [torch.ones([3])], t => F.dropout(t[0], 1.5)),
        ["randint with low >= high"] = new("randint", "randint needs low < high",
            () => [], _ => torch.randint(3, 3, [2])),
        ["item of a 6-element tensor"] = new("item", "a Tensor with 6 elements cannot be converted to Scalar",
            () => [torch.ones([2, 3])], t => t[0].item<float>()),
        ["backward without requires_grad"] = new("backward", "backward on a tensor that does not require grad",
            () => [torch.ones([2]).sum()], t => t[0].backward()),
        ["implicit backward of a non-scalar"] = new("backward", "grad can be implicitly created only for scalar outputs",
            () => [torch.ones([2]).requires_grad_() * 2], t => t[0].backward()),
    };

    public static TheoryData<string> CaseNames => new(Cases.Keys);

    [Theory, MemberData(nameof(CaseNames))]
    public void Libtorch_errors_become_TorchExceptions_without_a_backtrace(string name)
    {
        var c = Cases[name];
        using var scope = torch.NewDisposeScope();
        var inputs = c.Inputs();
        var e = Assert.Throws<TorchException>(() => c.Fail(inputs));
        Assert.Equal(c.Operation, e.Operation);
        Assert.Contains(c.Fragment, e.NativeMessage, StringComparison.Ordinal);
        Assert.Equal($"{c.Operation}: {e.NativeMessage}", e.Message);
        AssertNoBacktrace(e);
    }

    [Fact]
    public void A_thousand_errors_leave_the_process_healthy_and_leak_nothing()
    {
        var baseline = torch.live_tensors;
        using (var scope = torch.NewDisposeScope())
        {
            var cases = Cases.Values.ToArray();
            var inputs = cases.Select(c => c.Inputs()).ToArray();
            // Attention fails inside its own helper scope (q and k disagree on the feature size).
            var q = torch.ones([1, 2, 3]);
            var k = torch.ones([1, 2, 4]);
            var withInputs = torch.live_tensors;

            for (var i = 0; i < 1000; i++)
            {
                var n = i % (cases.Length + 1);
                if (n == cases.Length)
                {
                    var e = Assert.Throws<TorchException>(() => F.scaled_dot_product_attention(q, k, k));
                    Assert.Contains("Expected size for first two dimensions of batch2 tensor", e.NativeMessage, StringComparison.Ordinal);
                    AssertNoBacktrace(e);
                }
                else
                {
                    var e = Assert.Throws<TorchException>(() => cases[n].Fail(inputs[n]));
                    Assert.Equal(cases[n].Operation, e.Operation); // the thousandth error reads like the first
                    Assert.Contains(cases[n].Fragment, e.NativeMessage, StringComparison.Ordinal);
                    AssertNoBacktrace(e);
                }
            }
            Assert.Equal(withInputs, torch.live_tensors); // failed calls left no handle behind
        }
        Assert.Equal(baseline, torch.live_tensors);

        // A normal computation, forward and backward, still gives the right answer.
        using (torch.NewDisposeScope())
        {
            var a = torch.tensor(new double[] { 1, 2, 3, 4, 5, 6 }, [2, 3]).requires_grad_();
            var b = torch.tensor(new double[] { 1, 0, -1, 2, 0.5, 1 }, [3, 2]);
            var c = torch.matmul(a, b);
            Assert.Equal(new double[] { 0.5, 7, 2, 16 }, c.data<double>());
            c.sum().backward();
            Assert.Equal(new double[] { 1, 1, 1.5, 1, 1, 1.5 }, a.grad!.data<double>());
        }
        Assert.Equal(baseline, torch.live_tensors);
    }

    [Fact]
    public void Errors_are_thread_local_and_do_not_stick()
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.ones([2, 3]);
        Assert.Throws<TorchException>(() => x.sum(7));
        Assert.Equal(6, x.sum().item<double>()); // a later success is not reported as a failure
        string? otherThread = null;
        var thread = new Thread(() =>
        {
            using var threadScope = torch.NewDisposeScope(); // scopes are per thread
            try
            {
                torch.matmul(torch.ones([2, 3]), torch.ones([4, 5]));
            }
            catch (TorchException e)
            {
                otherThread = e.NativeMessage;
            }
        });
        thread.Start();
        thread.Join();
        Assert.Contains("mat1 and mat2", otherThread, StringComparison.Ordinal);
        var mine = Assert.Throws<TorchException>(() => x.transpose(0, 9));
        Assert.DoesNotContain("mat1", mine.NativeMessage, StringComparison.Ordinal);
    }

    private static void AssertNoBacktrace(TorchException e)
    {
        foreach (var text in new[] { e.Message, e.NativeMessage })
        {
            Assert.DoesNotContain("Exception raised from", text, StringComparison.Ordinal);
            Assert.DoesNotContain("frame #", text, StringComparison.Ordinal);
        }
        Assert.False(string.IsNullOrWhiteSpace(e.NativeMessage));
    }

    // ---- lifetimes -----------------------------------------------------------------------------------

    [Fact]
    public void Using_a_disposed_tensor_throws_ObjectDisposedException()
    {
        var baseline = torch.live_tensors;
        var t = torch.ones([2, 3]);
        var other = torch.ones([2, 3]);
        t.Dispose();
        Assert.True(t.IsInvalid);
        Assert.Equal("tensor(disposed)", t.ToString());
        Assert.Throws<ObjectDisposedException>(() => t.sum());
        Assert.Throws<ObjectDisposedException>(() => t.shape);
        Assert.Throws<ObjectDisposedException>(() => t + 1);
        Assert.Throws<ObjectDisposedException>(() => other + t); // as an argument, too
        Assert.Throws<ObjectDisposedException>(() => torch.cat([other, t]));
        Assert.Throws<ObjectDisposedException>(() => t.requires_grad = true);
        t.Dispose(); // a second dispose is a no-op
        other.Dispose();
        Assert.Equal(baseline, torch.live_tensors);

        var generator = new Generator(1);
        generator.Dispose();
        Assert.Throws<ObjectDisposedException>(() => torch.randn([2], generator: generator));
    }

    [Fact]
    public void Disposing_a_scope_frees_its_tensors()
    {
        var baseline = torch.live_tensors;
        Tensor inside;
        using (var scope = torch.NewDisposeScope())
        {
            Assert.Same(scope, DisposeScope.Current);
            var x = torch.randn([3, 4]).requires_grad_();
            var y = (x * 2).exp().sum();
            y.backward();
            var g = x.grad!;
            var parts = x.chunk(2, 1);
            var (values, indices) = x.topk(2);
            inside = y;
            Assert.Equal(baseline + 9, torch.live_tensors); // randn, mul, exp, sum, grad, 2 chunks, topk's 2
            Assert.Equal(9, scope.Count);
            g.Dispose(); // disposing one early is fine; the scope skips it
            Assert.Equal(8, scope.Count);
            Assert.Equal(2, parts.Length);
            Assert.False(values.IsInvalid || indices.IsInvalid);
        }
        Assert.Null(DisposeScope.Current);
        Assert.True(inside.IsInvalid);
        Assert.Throws<ObjectDisposedException>(() => inside.item<float>());
        Assert.Equal(baseline, torch.live_tensors);
    }

    [Fact]
    public void MoveToOuter_keeps_a_tensor_alive()
    {
        var baseline = torch.live_tensors;
        using (var outer = torch.NewDisposeScope())
        {
            Tensor moved, movedByMethod, temporary;
            using (var inner = torch.NewDisposeScope())
            {
                temporary = torch.ones([2]);
                moved = inner.MoveToOuter(temporary * 3);
                movedByMethod = (temporary + 1).MoveToOuterDisposeScope();
                Assert.Equal(1, inner.Count);
                Assert.Throws<InvalidOperationException>(() => outer.MoveToOuter(temporary)); // not outer's tensor
            }
            Assert.True(temporary.IsInvalid);
            Assert.Equal(new float[] { 3, 3 }, moved.data<float>());
            Assert.Equal(new float[] { 2, 2 }, movedByMethod.data<float>());
            Assert.Equal(2, outer.Count);
            Assert.Equal(baseline + 2, torch.live_tensors);
        }
        Assert.Equal(baseline, torch.live_tensors);

        // Moved out of the outermost scope, a tensor belongs to the caller.
        Tensor owned;
        using (var only = torch.NewDisposeScope()) owned = only.MoveToOuter(torch.zeros([4]));
        Assert.Equal(4, owned.numel());
        owned.Dispose();
        Tensor detached;
        using (torch.NewDisposeScope()) detached = torch.zeros([5]).DetachFromDisposeScope();
        Assert.Equal(5, detached.numel());
        detached.Dispose();
        Assert.Equal(baseline, torch.live_tensors);
    }

    [Fact]
    public void Nested_scopes_free_innermost_first()
    {
        var baseline = torch.live_tensors;
        var outer = torch.NewDisposeScope();
        var a = torch.ones([1]);
        var inner = torch.NewDisposeScope();
        Assert.Same(outer, inner.Outer);
        Assert.Same(inner, DisposeScope.Current);
        var b = torch.ones([1]);
        var innermost = torch.NewDisposeScope();
        var c = torch.ones([1]);
        innermost.Dispose();
        Assert.True(c.IsInvalid);
        Assert.Same(inner, DisposeScope.Current);
        var d = torch.ones([1]); // created after innermost ended: inner owns it
        Assert.Equal(2, inner.Count);
        inner.Dispose();
        Assert.True(b.IsInvalid && d.IsInvalid);
        Assert.False(a.IsInvalid);
        Assert.Same(outer, DisposeScope.Current);
        outer.Dispose();
        Assert.True(a.IsInvalid);
        Assert.Null(DisposeScope.Current);
        Assert.Equal(baseline, torch.live_tensors);
    }

    [Fact]
    public void Disposing_an_outer_scope_first_throws_and_can_be_retried_in_order()
    {
        var baseline = torch.live_tensors;
        var outer = torch.NewDisposeScope();
        var a = torch.ones([1]);
        var inner = torch.NewDisposeScope();
        var b = torch.ones([1]);
        Assert.Throws<InvalidOperationException>(() => outer.Dispose());
        Assert.False(a.IsInvalid);
        Assert.Same(inner, DisposeScope.Current);
        inner.Dispose();
        Assert.True(b.IsInvalid);
        Assert.Same(outer, DisposeScope.Current);
        outer.Dispose(); // the failed attempt must not have marked it disposed
        Assert.True(a.IsInvalid);
        Assert.Null(DisposeScope.Current);
        Assert.Equal(baseline, torch.live_tensors);
    }
}
