using AmbientDiffusion.Torch.Native;

namespace AmbientDiffusion.Torch;

/// <summary>Codes of ad_unary (src/AmbientDiffusion.Native/src/pointwise.cpp).</summary>
internal enum UnaryOp
{
    Neg = 0, Abs, Exp, Log, Sqrt, Rsqrt, Sin, Cos, Tanh, Sigmoid, Silu, Relu, Gelu, Square, Reciprocal, Sign,
    Floor, Ceil, Round, Log1p, Expm1, Erf, IsFinite, LogicalNot, IsNan, Trunc,
}

/// <summary>Codes of ad_binary (src/AmbientDiffusion.Native/src/pointwise.cpp).</summary>
internal enum BinaryOp
{
    Add = 0, Sub, Mul, Div, Pow, Maximum, Minimum, Eq, Ne, Lt, Le, Gt, Ge, Atan2, LogicalAnd, LogicalOr, Remainder,
    FloorDivide,
}

public partial class Tensor
{
    private Tensor Unary(UnaryOp op, string name) => FromNative(NativeMethods.ad_unary(Handle, (int)op), name);

    private Tensor UnaryInPlace(UnaryOp op, string name)
    {
        NativeMethods.Check(NativeMethods.ad_unary_(Handle, (int)op), name);
        return this;
    }

    private Tensor Binary(Tensor other, BinaryOp op, string name) => FromNative(NativeMethods.ad_binary(Handle, other.Handle, (int)op), name);

    private Tensor Binary(double scalar, BinaryOp op, string name, bool reverse = false) =>
        FromNative(NativeMethods.ad_binary_scalar(Handle, scalar, (int)op, reverse ? 1 : 0), name);

    private Tensor BinaryInPlace(Tensor other, BinaryOp op, string name)
    {
        NativeMethods.Check(NativeMethods.ad_binary_(Handle, other.Handle, (int)op), name);
        return this;
    }

    private Tensor BinaryInPlace(double scalar, BinaryOp op, string name)
    {
        NativeMethods.Check(NativeMethods.ad_binary_scalar_(Handle, scalar, (int)op), name);
        return this;
    }

    // ---- unary ---------------------------------------------------------------------------------------
#pragma warning disable CS1591 // one-line PyTorch equivalents: the names are the documentation
    public Tensor neg() => Unary(UnaryOp.Neg, "neg");
    public Tensor abs() => Unary(UnaryOp.Abs, "abs");
    public Tensor exp() => Unary(UnaryOp.Exp, "exp");
    public Tensor log() => Unary(UnaryOp.Log, "log");
    public Tensor sqrt() => Unary(UnaryOp.Sqrt, "sqrt");
    public Tensor rsqrt() => Unary(UnaryOp.Rsqrt, "rsqrt");
    public Tensor sin() => Unary(UnaryOp.Sin, "sin");
    public Tensor cos() => Unary(UnaryOp.Cos, "cos");
    public Tensor tanh() => Unary(UnaryOp.Tanh, "tanh");
    public Tensor sigmoid() => Unary(UnaryOp.Sigmoid, "sigmoid");
    public Tensor silu() => Unary(UnaryOp.Silu, "silu");
    public Tensor relu() => Unary(UnaryOp.Relu, "relu");
    public Tensor gelu() => Unary(UnaryOp.Gelu, "gelu");
    public Tensor square() => Unary(UnaryOp.Square, "square");
    public Tensor reciprocal() => Unary(UnaryOp.Reciprocal, "reciprocal");
    public Tensor sign() => Unary(UnaryOp.Sign, "sign");
    public Tensor floor() => Unary(UnaryOp.Floor, "floor");
    public Tensor ceil() => Unary(UnaryOp.Ceil, "ceil");
    public Tensor round() => Unary(UnaryOp.Round, "round");
    public Tensor trunc() => Unary(UnaryOp.Trunc, "trunc");
    public Tensor log1p() => Unary(UnaryOp.Log1p, "log1p");
    public Tensor expm1() => Unary(UnaryOp.Expm1, "expm1");
    public Tensor erf() => Unary(UnaryOp.Erf, "erf");
    public Tensor isfinite() => Unary(UnaryOp.IsFinite, "isfinite");
    public Tensor isnan() => Unary(UnaryOp.IsNan, "isnan");
    public Tensor logical_not() => Unary(UnaryOp.LogicalNot, "logical_not");

    public Tensor neg_() => UnaryInPlace(UnaryOp.Neg, "neg_");
    public Tensor abs_() => UnaryInPlace(UnaryOp.Abs, "abs_");
    public Tensor exp_() => UnaryInPlace(UnaryOp.Exp, "exp_");
    public Tensor log_() => UnaryInPlace(UnaryOp.Log, "log_");
    public Tensor sqrt_() => UnaryInPlace(UnaryOp.Sqrt, "sqrt_");
    public Tensor rsqrt_() => UnaryInPlace(UnaryOp.Rsqrt, "rsqrt_");
    public Tensor tanh_() => UnaryInPlace(UnaryOp.Tanh, "tanh_");
    public Tensor sigmoid_() => UnaryInPlace(UnaryOp.Sigmoid, "sigmoid_");
    public Tensor silu_() => UnaryInPlace(UnaryOp.Silu, "silu_");
    public Tensor relu_() => UnaryInPlace(UnaryOp.Relu, "relu_");
    public Tensor square_() => UnaryInPlace(UnaryOp.Square, "square_");
    public Tensor reciprocal_() => UnaryInPlace(UnaryOp.Reciprocal, "reciprocal_");
    public Tensor floor_() => UnaryInPlace(UnaryOp.Floor, "floor_");
    public Tensor ceil_() => UnaryInPlace(UnaryOp.Ceil, "ceil_");
    public Tensor round_() => UnaryInPlace(UnaryOp.Round, "round_");
    public Tensor trunc_() => UnaryInPlace(UnaryOp.Trunc, "trunc_");

    // ---- binary --------------------------------------------------------------------------------------
    public Tensor add(Tensor other) => Binary(other, BinaryOp.Add, "add");
    public Tensor add(Tensor other, double alpha) => FromNative(NativeMethods.ad_add_scaled(Handle, other.Handle, alpha), "add");
    public Tensor add(double scalar) => Binary(scalar, BinaryOp.Add, "add");
    public Tensor sub(Tensor other) => Binary(other, BinaryOp.Sub, "sub");
    public Tensor sub(double scalar) => Binary(scalar, BinaryOp.Sub, "sub");
    public Tensor mul(Tensor other) => Binary(other, BinaryOp.Mul, "mul");
    public Tensor mul(double scalar) => Binary(scalar, BinaryOp.Mul, "mul");
    public Tensor div(Tensor other) => Binary(other, BinaryOp.Div, "div");
    public Tensor div(double scalar) => Binary(scalar, BinaryOp.Div, "div");
    public Tensor pow(Tensor exponent) => Binary(exponent, BinaryOp.Pow, "pow");
    public Tensor pow(double exponent) => Binary(exponent, BinaryOp.Pow, "pow");
    public Tensor maximum(Tensor other) => Binary(other, BinaryOp.Maximum, "maximum");
    public Tensor minimum(Tensor other) => Binary(other, BinaryOp.Minimum, "minimum");
    public Tensor atan2(Tensor other) => Binary(other, BinaryOp.Atan2, "atan2");
    public Tensor remainder(Tensor other) => Binary(other, BinaryOp.Remainder, "remainder");
    public Tensor remainder(double scalar) => Binary(scalar, BinaryOp.Remainder, "remainder");
    public Tensor floor_divide(Tensor other) => Binary(other, BinaryOp.FloorDivide, "floor_divide");
    public Tensor logical_and(Tensor other) => Binary(other, BinaryOp.LogicalAnd, "logical_and");
    public Tensor logical_or(Tensor other) => Binary(other, BinaryOp.LogicalOr, "logical_or");

    public Tensor eq(Tensor other) => Binary(other, BinaryOp.Eq, "eq");
    public Tensor eq(double scalar) => Binary(scalar, BinaryOp.Eq, "eq");
    public Tensor ne(Tensor other) => Binary(other, BinaryOp.Ne, "ne");
    public Tensor ne(double scalar) => Binary(scalar, BinaryOp.Ne, "ne");
    public Tensor lt(Tensor other) => Binary(other, BinaryOp.Lt, "lt");
    public Tensor lt(double scalar) => Binary(scalar, BinaryOp.Lt, "lt");
    public Tensor le(Tensor other) => Binary(other, BinaryOp.Le, "le");
    public Tensor le(double scalar) => Binary(scalar, BinaryOp.Le, "le");
    public Tensor gt(Tensor other) => Binary(other, BinaryOp.Gt, "gt");
    public Tensor gt(double scalar) => Binary(scalar, BinaryOp.Gt, "gt");
    public Tensor ge(Tensor other) => Binary(other, BinaryOp.Ge, "ge");
    public Tensor ge(double scalar) => Binary(scalar, BinaryOp.Ge, "ge");

    public Tensor add_(Tensor other) => BinaryInPlace(other, BinaryOp.Add, "add_");
    public Tensor add_(double scalar) => BinaryInPlace(scalar, BinaryOp.Add, "add_");
    public Tensor add_(Tensor other, double alpha)
    {
        NativeMethods.Check(NativeMethods.ad_add_scaled_(Handle, other.Handle, alpha), "add_");
        return this;
    }
    public Tensor sub_(Tensor other) => BinaryInPlace(other, BinaryOp.Sub, "sub_");
    public Tensor sub_(double scalar) => BinaryInPlace(scalar, BinaryOp.Sub, "sub_");
    public Tensor mul_(Tensor other) => BinaryInPlace(other, BinaryOp.Mul, "mul_");
    public Tensor mul_(double scalar) => BinaryInPlace(scalar, BinaryOp.Mul, "mul_");
    public Tensor div_(Tensor other) => BinaryInPlace(other, BinaryOp.Div, "div_");
    public Tensor div_(double scalar) => BinaryInPlace(scalar, BinaryOp.Div, "div_");
    public Tensor pow_(double exponent) => BinaryInPlace(exponent, BinaryOp.Pow, "pow_");
#pragma warning restore CS1591

    /// <summary>this += value * t1 * t2.</summary>
    public Tensor addcmul_(Tensor t1, Tensor t2, double value = 1)
    {
        NativeMethods.Check(NativeMethods.ad_addcmul_(Handle, t1.Handle, t2.Handle, value), "addcmul_");
        return this;
    }

    /// <summary>this += value * t1 / t2.</summary>
    public Tensor addcdiv_(Tensor t1, Tensor t2, double value = 1)
    {
        NativeMethods.Check(NativeMethods.ad_addcdiv_(Handle, t1.Handle, t2.Handle, value), "addcdiv_");
        return this;
    }

    /// <summary>this += weight * (end - this).</summary>
    public Tensor lerp_(Tensor end, double weight)
    {
        NativeMethods.Check(NativeMethods.ad_lerp_(Handle, end.Handle, weight), "lerp_");
        return this;
    }

    /// <summary>Copies <paramref name="source"/> (broadcast, converted) into this tensor.</summary>
    public Tensor copy_(Tensor source)
    {
        NativeMethods.Check(NativeMethods.ad_copy_(Handle, source.Handle), "copy_");
        return this;
    }

    /// <summary>Sets every element to <paramref name="value"/>.</summary>
    public Tensor fill_(double value)
    {
        NativeMethods.Check(NativeMethods.ad_fill_(Handle, value), "fill_");
        return this;
    }

    /// <summary>Sets every element to zero.</summary>
    public Tensor zero_()
    {
        NativeMethods.Check(NativeMethods.ad_zero_(Handle), "zero_");
        return this;
    }

    /// <summary>Elements limited to [min, max]; either bound may be omitted.</summary>
    public Tensor clamp(double? min = null, double? max = null) =>
        FromNative(NativeMethods.ad_clamp(Handle, min ?? 0, max ?? 0, min.HasValue ? 1 : 0, max.HasValue ? 1 : 0), "clamp");

    /// <summary>In-place <see cref="clamp"/>.</summary>
    public Tensor clamp_(double? min = null, double? max = null)
    {
        NativeMethods.Check(NativeMethods.ad_clamp_(Handle, min ?? 0, max ?? 0, min.HasValue ? 1 : 0, max.HasValue ? 1 : 0), "clamp_");
        return this;
    }

    /// <summary>Elements where <paramref name="mask"/> is true replaced by <paramref name="value"/>.</summary>
    public Tensor masked_fill(Tensor mask, double value) => FromNative(NativeMethods.ad_masked_fill(Handle, mask.Handle, value), "masked_fill");

    /// <summary>In-place normal fill from <paramref name="generator"/> (null: the default generator).</summary>
    public Tensor normal_(double mean = 0, double std = 1, Generator? generator = null) => RandomFill(0, mean, std, generator, "normal_");

    /// <summary>In-place uniform fill on [from, to).</summary>
    public Tensor uniform_(double from = 0, double to = 1, Generator? generator = null) => RandomFill(1, from, to, generator, "uniform_");

    /// <summary>In-place Bernoulli(p) fill (1 with probability p).</summary>
    public Tensor bernoulli_(double p, Generator? generator = null) => RandomFill(2, p, 0, generator, "bernoulli_");

    private Tensor RandomFill(int kind, double a, double b, Generator? generator, string op)
    {
        NativeMethods.Check(NativeMethods.ad_random_(Handle, kind, a, b, generator?.Handle ?? IntPtr.Zero), op);
        return this;
    }

    // ---- operators -----------------------------------------------------------------------------------
#pragma warning disable CS1591
    public static Tensor operator +(Tensor a, Tensor b) => a.add(b);
    public static Tensor operator +(Tensor a, double b) => a.add(b);
    public static Tensor operator +(double a, Tensor b) => b.add(a);
    public static Tensor operator -(Tensor a, Tensor b) => a.sub(b);
    public static Tensor operator -(Tensor a, double b) => a.sub(b);
    public static Tensor operator -(double a, Tensor b) => b.Binary(a, BinaryOp.Sub, "rsub", reverse: true);
    public static Tensor operator *(Tensor a, Tensor b) => a.mul(b);
    public static Tensor operator *(Tensor a, double b) => a.mul(b);
    public static Tensor operator *(double a, Tensor b) => b.mul(a);
    public static Tensor operator /(Tensor a, Tensor b) => a.div(b);
    public static Tensor operator /(Tensor a, double b) => a.div(b);
    public static Tensor operator /(double a, Tensor b) => b.Binary(a, BinaryOp.Div, "rdiv", reverse: true);
    public static Tensor operator -(Tensor a) => a.neg();
    public static Tensor operator %(Tensor a, double b) => a.remainder(b);
    public static Tensor operator <(Tensor a, double b) => a.lt(b);
    public static Tensor operator >(Tensor a, double b) => a.gt(b);
    public static Tensor operator <=(Tensor a, double b) => a.le(b);
    public static Tensor operator >=(Tensor a, double b) => a.ge(b);
    public static Tensor operator <(Tensor a, Tensor b) => a.lt(b);
    public static Tensor operator >(Tensor a, Tensor b) => a.gt(b);
    public static Tensor operator <=(Tensor a, Tensor b) => a.le(b);
    public static Tensor operator >=(Tensor a, Tensor b) => a.ge(b);
    public static Tensor operator &(Tensor a, Tensor b) => a.logical_and(b);
    public static Tensor operator |(Tensor a, Tensor b) => a.logical_or(b);
    public static Tensor operator !(Tensor a) => a.logical_not();
#pragma warning restore CS1591
}
