"""The Python bindings over the built library: version, backends, Context, errors."""
import os
import unittest

import vnative


class ContextTest(unittest.TestCase):
    def test_version(self):
        self.assertRegex(vnative.version(), r"^\d+\.\d+\.\d+$")

    def test_backends(self):
        b = vnative.backends()
        self.assertTrue(b["cpu"]["available"])
        self.assertTrue(b["reference"]["compiled"])
        if not b["cuda"]["available"]:
            self.assertNotEqual(b["cuda"]["reason"], "")

    def test_context(self):
        with vnative.Context(backend="reference", threads=1, seed=7) as ctx:
            self.assertEqual(ctx.backend, "reference")
            self.assertEqual(ctx.threads, 1)
            self.assertEqual(ctx.seed, 7)
        with self.assertRaises(vnative.VnError) as err:
            ctx.backend
        self.assertEqual(err.exception.status, "VN_ERR_STATE")

    def test_errors_carry_the_library_message(self):
        with self.assertRaises(vnative.VnError) as err:
            vnative.Context(backend="tpu")
        self.assertEqual(err.exception.status, "VN_ERR_INVALID_ARG")
        self.assertIn("tpu", err.exception.message)
        with self.assertRaises(vnative.VnError) as err:
            vnative.Context(threads=-1)
        self.assertIn("n_threads", err.exception.message)

    def test_cuda_request_without_gpu(self):
        if vnative.backends()["cuda"]["available"]:
            self.skipTest("a GPU is present")
        with self.assertRaises(vnative.VnError) as err:
            vnative.Context(backend="cuda")
        self.assertEqual(err.exception.status, "VN_ERR_UNSUPPORTED")

    def test_many_contexts(self):
        for _ in range(200):
            with vnative.Context(backend="cpu") as ctx:
                self.assertEqual(ctx.backend, "cpu")


if __name__ == "__main__":
    os.environ.setdefault("VN_BACKEND", "")
    unittest.main(verbosity=2)
