"""FP8 training support (public path ``flaxen.linen.fp8_ops``).

Delayed-scaling FP8 as the reference's ``flax.linen.fp8_ops`` does it, numerically identical:

* ``meta_dtype``: ``fm32``, a float32-backed JAX extended dtype whose gradients accumulate
  with ``max`` instead of ``+`` (for scales/histories used several times, e.g. under scan);
* ``quantize``: scaling, clipping, casting and the amax-history/scale update rule;
* ``qdq_ops``: the custom-derivative building blocks (quantize-dequantize on the way in,
  on the way back; direct FP8 dot with FP8 gradients);
* ``layers``: the ``dot_general``/``einsum`` replacement modules whose scales and amax
  histories live in the ``OVERWRITE_WITH_GRADIENT`` collection: their "gradients" are the
  updated values, which ``TrainState.apply_gradients`` writes back instead of optimizing.
"""
