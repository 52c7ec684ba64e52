"""Tests of the tests for notebook 05: plausible wrong answers and different right ones.

Each section is graded as its own submission (the instructor's solutions with that one
cell replaced). A `wrong` one must lose that function's points, in each part named in
brackets, and keep every point of the parts named in `keeps[...]`; a `correct` one must
keep every point of the notebook. Grading 05 takes up to ~30 s per submission (it
trains the network twice), so the list is short: the commonest slips only. The readonly
cells provide `conv2d`, `init_params`, `forward`, `softmax_cross_entropy`, `predict`
and `make_edges`.
"""

# %% conv2d_backward: wrong[computation]: forgets the bias gradient
def conv2d_backward(x, weights, grad_out):
    import scipy.signal
    x, weights, grad_out = (np.asarray(a, dtype=float) for a in (x, weights, grad_out))
    if x.ndim != 3 or weights.ndim != 4 or x.shape[0] != weights.shape[1]:
        raise ValueError("bad shapes")
    f, c, kh, kw = weights.shape
    if grad_out.shape != (f, x.shape[1] - kh + 1, x.shape[2] - kw + 1):
        raise ValueError("grad_out has the wrong shape")
    grad_w = np.array([[scipy.signal.correlate2d(x[ci], grad_out[fi], "valid") for ci in range(c)] for fi in range(f)])
    grad_x = np.array([sum(scipy.signal.convolve2d(grad_out[fi], weights[fi, ci], "full") for fi in range(f))
                       for ci in range(c)])
    return grad_x, grad_w, np.zeros(f)

# %% conv2d_backward: wrong[computation]: grad_weights by convolution (flipped)
def conv2d_backward(x, weights, grad_out):
    import scipy.signal
    x, weights, grad_out = (np.asarray(a, dtype=float) for a in (x, weights, grad_out))
    if x.ndim != 3 or weights.ndim != 4 or x.shape[0] != weights.shape[1]:
        raise ValueError("bad shapes")
    f, c, kh, kw = weights.shape
    if grad_out.shape != (f, x.shape[1] - kh + 1, x.shape[2] - kw + 1):
        raise ValueError("grad_out has the wrong shape")
    grad_w = np.array([[scipy.signal.convolve2d(x[ci], grad_out[fi], "valid") for ci in range(c)] for fi in range(f)])
    grad_x = np.array([sum(scipy.signal.convolve2d(grad_out[fi], weights[fi, ci], "full") for fi in range(f))
                       for ci in range(c)])
    return grad_x, grad_w, grad_out.sum(axis=(1, 2))

# %% conv2d_backward: wrong[computation]: grad_x with unflipped weights (full correlation)
def conv2d_backward(x, weights, grad_out):
    import scipy.signal
    x, weights, grad_out = (np.asarray(a, dtype=float) for a in (x, weights, grad_out))
    if x.ndim != 3 or weights.ndim != 4 or x.shape[0] != weights.shape[1]:
        raise ValueError("bad shapes")
    f, c, kh, kw = weights.shape
    if grad_out.shape != (f, x.shape[1] - kh + 1, x.shape[2] - kw + 1):
        raise ValueError("grad_out has the wrong shape")
    grad_w = np.array([[scipy.signal.correlate2d(x[ci], grad_out[fi], "valid") for ci in range(c)] for fi in range(f)])
    grad_x = np.array([sum(scipy.signal.correlate2d(grad_out[fi], weights[fi, ci], "full") for fi in range(f))
                       for ci in range(c)])
    return grad_x, grad_w, grad_out.sum(axis=(1, 2))

# %% conv2d_backward: wrong[computation]: grad_bias is the mean, not the sum
def conv2d_backward(x, weights, grad_out):
    import scipy.signal
    x, weights, grad_out = (np.asarray(a, dtype=float) for a in (x, weights, grad_out))
    if x.ndim != 3 or weights.ndim != 4 or x.shape[0] != weights.shape[1]:
        raise ValueError("bad shapes")
    f, c, kh, kw = weights.shape
    if grad_out.shape != (f, x.shape[1] - kh + 1, x.shape[2] - kw + 1):
        raise ValueError("grad_out has the wrong shape")
    grad_w = np.array([[scipy.signal.correlate2d(x[ci], grad_out[fi], "valid") for ci in range(c)] for fi in range(f)])
    grad_x = np.array([sum(scipy.signal.convolve2d(grad_out[fi], weights[fi, ci], "full") for fi in range(f))
                       for ci in range(c)])
    return grad_x, grad_w, grad_out.mean(axis=(1, 2))

# %% conv2d_backward: wrong[computation]: grad_x forgets the sum over filters
def conv2d_backward(x, weights, grad_out):
    import scipy.signal
    x, weights, grad_out = (np.asarray(a, dtype=float) for a in (x, weights, grad_out))
    if x.ndim != 3 or weights.ndim != 4 or x.shape[0] != weights.shape[1]:
        raise ValueError("bad shapes")
    f, c, kh, kw = weights.shape
    if grad_out.shape != (f, x.shape[1] - kh + 1, x.shape[2] - kw + 1):
        raise ValueError("grad_out has the wrong shape")
    grad_w = np.array([[scipy.signal.correlate2d(x[ci], grad_out[fi], "valid") for ci in range(c)] for fi in range(f)])
    grad_x = np.array([scipy.signal.convolve2d(grad_out[0], weights[0, ci], "full") for ci in range(c)])
    return grad_x, grad_w, grad_out.sum(axis=(1, 2))

# %% conv2d_backward: correct: explicit loops over filters, channels and kernel offsets
def conv2d_backward(x, weights, grad_out):
    x = np.array(x, dtype=float)
    weights = np.array(weights, dtype=float)
    grad_out = np.array(grad_out, dtype=float)
    if x.ndim != 3 or weights.ndim != 4:
        raise ValueError("x must be 3-D and weights 4-D")
    C, H, W = x.shape
    F, C2, kh, kw = weights.shape
    if C != C2 or kh > H or kw > W:
        raise ValueError("weights do not fit x")
    oh, ow = H - kh + 1, W - kw + 1
    if grad_out.shape != (F, oh, ow):
        raise ValueError("grad_out has the wrong shape")
    grad_x = np.zeros_like(x)
    grad_w = np.zeros_like(weights)
    for f in range(F):
        for c in range(C):
            for i in range(kh):
                for j in range(kw):
                    grad_w[f, c, i, j] = np.sum(x[c, i:i + oh, j:j + ow] * grad_out[f])
                    grad_x[c, i:i + oh, j:j + ow] += weights[f, c, i, j] * grad_out[f]
    grad_b = np.array([grad_out[f].sum() for f in range(F)])
    return grad_x, grad_w, grad_b

# %% conv2d_backward: correct: FFT-based correlations and convolutions
def conv2d_backward(x, weights, grad_out):
    from scipy.signal import fftconvolve
    x = np.asarray(x, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    grad_out = np.asarray(grad_out, dtype=np.float64)
    if x.ndim != 3 or weights.ndim != 4 or x.shape[0] != weights.shape[1]:
        raise ValueError("x (C, H, W) and weights (F, C, kh, kw) do not fit together")
    F, C, kh, kw = weights.shape
    if kh > x.shape[1] or kw > x.shape[2] or grad_out.shape != (F, x.shape[1] - kh + 1, x.shape[2] - kw + 1):
        raise ValueError("grad_out must have the layer output's shape")
    # correlate(a, b) = convolve(a, b flipped); broadcasting over (F, C)
    grad_w = fftconvolve(x[None], grad_out[:, None, ::-1, ::-1], mode="valid", axes=(2, 3))
    grad_x = fftconvolve(grad_out[:, None], weights, mode="full", axes=(2, 3)).sum(axis=0)
    return grad_x, grad_w, grad_out.sum(axis=(1, 2))

# %% train: wrong[computation, accuracy]: only the linear layer learns (kernels never updated)
def train(images, labels, n_filters=8, kernel_size=5, epochs=15, lr=0.5, batch_size=32, momentum=0.9, seed=0):
    images, labels = np.asarray(images, float), np.asarray(labels)
    params = init_params(n_filters, kernel_size, int(labels.max()) + 1, seed)
    vel = {k: np.zeros_like(v) for k, v in params.items()}
    rng = np.random.default_rng(seed)
    history = {"loss": [], "accuracy": [], "weights": [params["weights"].copy()]}
    for _ in range(epochs):
        order = rng.permutation(len(images))
        tot, ok = 0.0, 0
        for s in range(0, len(images), batch_size):
            idx = order[s:s + batch_size]
            scores, cache = forward(params, images[idx])
            loss, d = softmax_cross_entropy(scores, labels[idx])
            tot += loss * len(idx)
            ok += int((scores.argmax(1) == labels[idx]).sum())
            grads = {"V": cache["pooled"].T @ d, "c": d.sum(0)}
            for k in grads:
                vel[k] = momentum * vel[k] - lr * grads[k]
                params[k] = params[k] + vel[k]
        history["loss"].append(tot / len(images))
        history["accuracy"].append(ok / len(images))
        history["weights"].append(params["weights"].copy())
    return params, history

# %% train: wrong[computation]: forgets the ReLU mask in the backward pass
def train(images, labels, n_filters=8, kernel_size=5, epochs=15, lr=0.5, batch_size=32, momentum=0.9, seed=0):
    images, labels = np.asarray(images, float), np.asarray(labels)
    params = init_params(n_filters, kernel_size, int(labels.max()) + 1, seed)
    vel = {k: np.zeros_like(v) for k, v in params.items()}
    rng = np.random.default_rng(seed)
    history = {"loss": [], "accuracy": [], "weights": [params["weights"].copy()]}
    for _ in range(epochs):
        order = rng.permutation(len(images))
        tot, ok = 0.0, 0
        for s in range(0, len(images), batch_size):
            idx = order[s:s + batch_size]
            x, y = images[idx], labels[idx]
            scores, cache = forward(params, x)
            loss, d = softmax_cross_entropy(scores, y)
            tot += loss * len(idx)
            ok += int((scores.argmax(1) == y).sum())
            z = cache["z"]
            grads = {"V": cache["pooled"].T @ d, "c": d.sum(0)}
            d_z = np.broadcast_to((d @ params["V"].T)[:, :, None, None] / (z.shape[2] * z.shape[3]), z.shape)
            grads["weights"] = np.zeros_like(params["weights"])
            grads["bias"] = np.zeros_like(params["bias"])
            for b in range(len(idx)):
                _, gw, gb = conv2d_backward(x[b][None], params["weights"], d_z[b])
                grads["weights"] += gw
                grads["bias"] += gb
            for k in params:
                vel[k] = momentum * vel[k] - lr * grads[k]
                params[k] = params[k] + vel[k]
        history["loss"].append(tot / len(images))
        history["accuracy"].append(ok / len(images))
        history["weights"].append(params["weights"].copy())
    return params, history

# %% train: wrong[computation]: forgets the 1/(H'W') of the average pooling
def train(images, labels, n_filters=8, kernel_size=5, epochs=15, lr=0.5, batch_size=32, momentum=0.9, seed=0):
    images, labels = np.asarray(images, float), np.asarray(labels)
    params = init_params(n_filters, kernel_size, int(labels.max()) + 1, seed)
    vel = {k: np.zeros_like(v) for k, v in params.items()}
    rng = np.random.default_rng(seed)
    history = {"loss": [], "accuracy": [], "weights": [params["weights"].copy()]}
    for _ in range(epochs):
        order = rng.permutation(len(images))
        tot, ok = 0.0, 0
        for s in range(0, len(images), batch_size):
            idx = order[s:s + batch_size]
            x, y = images[idx], labels[idx]
            scores, cache = forward(params, x)
            loss, d = softmax_cross_entropy(scores, y)
            tot += loss * len(idx)
            ok += int((scores.argmax(1) == y).sum())
            z = cache["z"]
            grads = {"V": cache["pooled"].T @ d, "c": d.sum(0)}
            d_z = (d @ params["V"].T)[:, :, None, None] * (z > 0)
            grads["weights"] = np.zeros_like(params["weights"])
            grads["bias"] = np.zeros_like(params["bias"])
            for b in range(len(idx)):
                _, gw, gb = conv2d_backward(x[b][None], params["weights"], d_z[b])
                grads["weights"] += gw
                grads["bias"] += gb
            for k in params:
                vel[k] = momentum * vel[k] - lr * grads[k]
                params[k] = params[k] + vel[k]
        history["loss"].append(tot / len(images))
        history["accuracy"].append(ok / len(images))
        history["weights"].append(params["weights"].copy())
    return params, history

# %% train: wrong[computation]: returns the initial parameters (trains a copy)
def train(images, labels, n_filters=8, kernel_size=5, epochs=15, lr=0.5, batch_size=32, momentum=0.9, seed=0):
    images, labels = np.asarray(images, float), np.asarray(labels)
    params = init_params(n_filters, kernel_size, int(labels.max()) + 1, seed)
    work = {k: v.copy() for k, v in params.items()}
    vel = {k: np.zeros_like(v) for k, v in params.items()}
    rng = np.random.default_rng(seed)
    history = {"loss": [], "accuracy": [], "weights": [work["weights"].copy()]}
    for _ in range(epochs):
        order = rng.permutation(len(images))
        tot, ok = 0.0, 0
        for s in range(0, len(images), batch_size):
            idx = order[s:s + batch_size]
            x, y = images[idx], labels[idx]
            scores, cache = forward(work, x)
            loss, d = softmax_cross_entropy(scores, y)
            tot += loss * len(idx)
            ok += int((scores.argmax(1) == y).sum())
            z = cache["z"]
            grads = {"V": cache["pooled"].T @ d, "c": d.sum(0)}
            d_z = (d @ work["V"].T)[:, :, None, None] / (z.shape[2] * z.shape[3]) * (z > 0)
            grads["weights"] = np.zeros_like(work["weights"])
            grads["bias"] = np.zeros_like(work["bias"])
            for b in range(len(idx)):
                _, gw, gb = conv2d_backward(x[b][None], work["weights"], d_z[b])
                grads["weights"] += gw
                grads["bias"] += gb
            for k in work:
                vel[k] = momentum * vel[k] - lr * grads[k]
                work[k] = work[k] + vel[k]
        history["loss"].append(tot / len(images))
        history["accuracy"].append(ok / len(images))
        history["weights"].append(work["weights"].copy())
    return params, history

# %% train: correct: whole-batch einsum for the kernel gradient, momentum as a running sum
def train(images, labels, n_filters=8, kernel_size=5, epochs=15, lr=0.5, batch_size=32, momentum=0.9, seed=0):
    images = np.asarray(images, dtype=np.float64)
    labels = np.asarray(labels)
    n, k = len(images), kernel_size
    params = init_params(n_filters, k, int(labels.max()) + 1, seed)
    buf = {name: np.zeros_like(value) for name, value in params.items()}
    rng = np.random.default_rng(seed)
    history = {"loss": [], "accuracy": [], "weights": [params["weights"].copy()]}
    for _ in range(epochs):
        order = rng.permutation(n)
        losses, hits = [], 0
        for start in range(0, n, batch_size):
            idx = order[start:start + batch_size]
            x, y = images[idx], labels[idx]
            scores, cache = forward(params, x)
            loss, d_scores = softmax_cross_entropy(scores, y)
            losses.append(loss * len(idx))
            hits += np.count_nonzero(scores.argmax(axis=1) == y)
            z = cache["z"]
            d_z = np.einsum("bk,fk->bf", d_scores, params["V"])[:, :, None, None] * (z > 0) / z[0, 0].size
            windows = sliding_window_view(x, (k, k), axis=(1, 2))
            grads = {"weights": np.einsum("bhwij,bfhw->fij", windows, d_z)[:, None],
                     "bias": d_z.sum(axis=(0, 2, 3)),
                     "V": cache["pooled"].T @ d_scores,
                     "c": d_scores.sum(axis=0)}
            for name in params:
                buf[name] = momentum * buf[name] + grads[name]
                params[name] = params[name] - lr * buf[name]
        history["loss"].append(sum(losses) / n)
        history["accuracy"].append(hits / n)
        history["weights"].append(params["weights"].copy())
    return params, history

# %% conv2d_backward: wrong[dtypes, bad_input] keeps[computation]: right maths with scipy.signal, no conversion (float32 stays float32), no shape checks
def conv2d_backward(x, weights, grad_out):
    import scipy.signal
    f, c = np.shape(weights)[:2]
    grad_w = np.array([[scipy.signal.correlate2d(x[ci], grad_out[fi], "valid") for ci in range(c)] for fi in range(f)])
    grad_x = np.array([sum(scipy.signal.convolve2d(grad_out[fi], weights[fi, ci], "full") for fi in range(f))
                       for ci in range(c)])
    return grad_x, grad_w, np.sum(grad_out, axis=(1, 2))

# %% conv2d_backward: wrong[dtypes] keeps[computation, bad_input]: flips the caller's weights in place for grad_x
def conv2d_backward(x, weights, grad_out):
    import scipy.signal
    x, grad_out = np.asarray(x, dtype=float), np.asarray(grad_out, dtype=float)
    weights = np.asarray(weights, dtype=float)
    if x.ndim != 3 or weights.ndim != 4 or x.shape[0] != weights.shape[1]:
        raise ValueError("bad shapes")
    f, c, kh, kw = weights.shape
    if kh > x.shape[1] or kw > x.shape[2] or grad_out.shape != (f, x.shape[1] - kh + 1, x.shape[2] - kw + 1):
        raise ValueError("grad_out has the wrong shape")
    grad_w = np.array([[scipy.signal.correlate2d(x[ci], grad_out[fi], "valid") for ci in range(c)] for fi in range(f)])
    weights[...] = weights[:, :, ::-1, ::-1].copy()  # correlating with the flipped kernel is a convolution
    grad_x = np.array([sum(scipy.signal.correlate2d(grad_out[fi], weights[fi, ci], "full") for fi in range(f))
                       for ci in range(c)])
    return grad_x, grad_w, grad_out.sum(axis=(1, 2))

# %% train: wrong[history] keeps[computation, accuracy]: the epoch's loss is the plain mean of the batch losses (the short last batch weighs as much as a full one)
def train(images, labels, n_filters=8, kernel_size=5, epochs=15, lr=0.5, batch_size=32, momentum=0.9, seed=0):
    images = np.asarray(images, dtype=np.float64)
    labels = np.asarray(labels)
    n = len(images)
    params = init_params(n_filters, kernel_size, int(labels.max()) + 1, seed)
    velocity = {key: np.zeros_like(value) for key, value in params.items()}
    rng = np.random.default_rng(seed)
    history = {"loss": [], "accuracy": [], "weights": [params["weights"].copy()]}
    for _ in range(epochs):
        order = rng.permutation(n)
        total_loss, correct, batches = 0.0, 0, 0
        for start in range(0, n, batch_size):
            batch = order[start : start + batch_size]
            x, y = images[batch], labels[batch]
            scores, cache = forward(params, x)
            loss, d_scores = softmax_cross_entropy(scores, y)
            total_loss += loss
            batches += 1
            correct += int(np.sum(scores.argmax(axis=1) == y))
            z, pooled = cache["z"], cache["pooled"]
            grads = {"V": pooled.T @ d_scores, "c": d_scores.sum(axis=0)}
            d_pooled = d_scores @ params["V"].T
            d_z = d_pooled[:, :, None, None] / (z.shape[2] * z.shape[3]) * (z > 0)
            grads["weights"] = np.zeros_like(params["weights"])
            grads["bias"] = np.zeros_like(params["bias"])
            for b in range(len(batch)):
                _, grad_w, grad_b = conv2d_backward(x[b][None], params["weights"], d_z[b])
                grads["weights"] += grad_w
                grads["bias"] += grad_b
            for key in params:
                velocity[key] = momentum * velocity[key] - lr * grads[key]
                params[key] = params[key] + velocity[key]
        history["loss"].append(total_loss / batches)
        history["accuracy"].append(correct / n)
        history["weights"].append(params["weights"].copy())
    return params, history

# %% train: wrong[history] keeps[computation, accuracy]: updates in place and keeps no copies of the kernels in the history
def train(images, labels, n_filters=8, kernel_size=5, epochs=15, lr=0.5, batch_size=32, momentum=0.9, seed=0):
    images = np.asarray(images, dtype=np.float64)
    labels = np.asarray(labels)
    n = len(images)
    params = init_params(n_filters, kernel_size, int(labels.max()) + 1, seed)
    velocity = {key: np.zeros_like(value) for key, value in params.items()}
    rng = np.random.default_rng(seed)
    history = {"loss": [], "accuracy": [], "weights": [params["weights"]]}
    for _ in range(epochs):
        order = rng.permutation(n)
        total_loss, correct, batches = 0.0, 0, 0
        for start in range(0, n, batch_size):
            batch = order[start : start + batch_size]
            x, y = images[batch], labels[batch]
            scores, cache = forward(params, x)
            loss, d_scores = softmax_cross_entropy(scores, y)
            total_loss += loss * len(batch)
            batches += 1
            correct += int(np.sum(scores.argmax(axis=1) == y))
            z, pooled = cache["z"], cache["pooled"]
            grads = {"V": pooled.T @ d_scores, "c": d_scores.sum(axis=0)}
            d_pooled = d_scores @ params["V"].T
            d_z = d_pooled[:, :, None, None] / (z.shape[2] * z.shape[3]) * (z > 0)
            grads["weights"] = np.zeros_like(params["weights"])
            grads["bias"] = np.zeros_like(params["bias"])
            for b in range(len(batch)):
                _, grad_w, grad_b = conv2d_backward(x[b][None], params["weights"], d_z[b])
                grads["weights"] += grad_w
                grads["bias"] += grad_b
            for key in params:
                velocity[key] = momentum * velocity[key] - lr * grads[key]
                params[key] += velocity[key]
        history["loss"].append(total_loss / n)
        history["accuracy"].append(correct / n)
        history["weights"].append(params["weights"])
    return params, history

# %% train: wrong[history] keeps[computation]: shuffles with the global np.random (not rng.permutation)
def train(images, labels, n_filters=8, kernel_size=5, epochs=15, lr=0.5, batch_size=32, momentum=0.9, seed=0):
    images = np.asarray(images, dtype=np.float64)
    labels = np.asarray(labels)
    n = len(images)
    params = init_params(n_filters, kernel_size, int(labels.max()) + 1, seed)
    velocity = {key: np.zeros_like(value) for key, value in params.items()}
    rng = np.random.default_rng(seed)
    history = {"loss": [], "accuracy": [], "weights": [params["weights"].copy()]}
    for _ in range(epochs):
        order = np.random.permutation(n)
        total_loss, correct, batches = 0.0, 0, 0
        for start in range(0, n, batch_size):
            batch = order[start : start + batch_size]
            x, y = images[batch], labels[batch]
            scores, cache = forward(params, x)
            loss, d_scores = softmax_cross_entropy(scores, y)
            total_loss += loss * len(batch)
            batches += 1
            correct += int(np.sum(scores.argmax(axis=1) == y))
            z, pooled = cache["z"], cache["pooled"]
            grads = {"V": pooled.T @ d_scores, "c": d_scores.sum(axis=0)}
            d_pooled = d_scores @ params["V"].T
            d_z = d_pooled[:, :, None, None] / (z.shape[2] * z.shape[3]) * (z > 0)
            grads["weights"] = np.zeros_like(params["weights"])
            grads["bias"] = np.zeros_like(params["bias"])
            for b in range(len(batch)):
                _, grad_w, grad_b = conv2d_backward(x[b][None], params["weights"], d_z[b])
                grads["weights"] += grad_w
                grads["bias"] += grad_b
            for key in params:
                velocity[key] = momentum * velocity[key] - lr * grads[key]
                params[key] = params[key] + velocity[key]
        history["loss"].append(total_loss / n)
        history["accuracy"].append(correct / n)
        history["weights"].append(params["weights"].copy())
    return params, history
