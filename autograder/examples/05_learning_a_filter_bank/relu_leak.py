"""Kim lets the gradient through the ReLU everywhere (no z > 0 mask) and uses the
weights unflipped for grad_x. Her network still learns something, but not the
gradient the checks ask for."""
# %% all: solution
# %% conv2d_backward
def conv2d_backward(x, weights, grad_out):
    from numpy.lib.stride_tricks import sliding_window_view as windows
    x, weights, grad_out = (np.asarray(a, dtype=float) for a in (x, weights, grad_out))
    if x.ndim != 3 or weights.ndim != 4 or x.shape[0] != weights.shape[1]:
        raise ValueError("bad shapes")
    f, c, kh, kw = weights.shape
    if grad_out.shape != (f, x.shape[1] - kh + 1, x.shape[2] - kw + 1):
        raise ValueError("grad_out has the wrong shape")
    grad_w = np.einsum("chwij,fhw->fcij", windows(x, (kh, kw), axis=(1, 2)), grad_out)
    padded = np.pad(grad_out, ((0, 0), (kh - 1, kh - 1), (kw - 1, kw - 1)))
    grad_x = np.einsum("fhwij,fcij->chw", windows(padded, (kh, kw), axis=(1, 2)), weights)  # not flipped
    return grad_x, grad_w, grad_out.sum(axis=(1, 2))
# %% train
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
