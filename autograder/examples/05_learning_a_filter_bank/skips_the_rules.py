"""Fay's maths is right everywhere, but she skipped the rules the text states: her
conv2d_backward never converts its inputs to float64 (a float32 or uint8 input keeps
its dtype) and never checks the shapes (only what SciPy itself refuses raises). Her
training loop follows the table. She keeps every computation part and scores 8/10:
conv2d_backward loses its dtypes and bad-input parts (2/4), train keeps all 6."""
# %% all: solution
# %% conv2d_backward
def conv2d_backward(x, weights, grad_out):
    """Gradients of a valid, stride-1 Conv2D layer: return (grad_x, grad_weights, grad_bias)."""
    F, C = weights.shape[0], weights.shape[1]
    grad_weights = np.array([[scipy.signal.correlate2d(x[c], grad_out[f], "valid") for c in range(C)]
                             for f in range(F)])
    grad_bias = grad_out.sum(axis=(1, 2))
    grad_x = np.array([sum(scipy.signal.convolve2d(grad_out[f], weights[f, c], "full") for f in range(F))
                       for c in range(C)])
    return grad_x, grad_weights, grad_bias
# %% train
def train(images, labels, n_filters=8, kernel_size=5, epochs=15, lr=0.5, batch_size=32, momentum=0.9, seed=0):
    """Train the network with minibatch gradient descent and momentum; return (params, history)."""
    params = init_params(n_filters, kernel_size, labels.max() + 1, seed)
    velocity = {key: np.zeros_like(value) for key, value in params.items()}
    rng = np.random.default_rng(seed)
    history = {"loss": [], "accuracy": [], "weights": [params["weights"].copy()]}
    n = len(images)
    for _ in range(epochs):
        order = rng.permutation(n)
        total_loss = 0.0
        correct = 0
        for start in range(0, n, batch_size):
            batch = order[start:start + batch_size]
            x, y = images[batch], labels[batch]
            scores, cache = forward(params, x)
            loss, d_scores = softmax_cross_entropy(scores, y)
            total_loss += loss * len(batch)
            correct += np.sum(scores.argmax(axis=1) == y)
            z, pooled = cache["z"], cache["pooled"]
            grads = {"V": pooled.T @ d_scores, "c": d_scores.sum(0)}
            d_pooled = d_scores @ params["V"].T
            d_a = d_pooled[:, :, None, None] / (z.shape[2] * z.shape[3])
            d_z = d_a * (z > 0)
            grads["weights"] = np.zeros_like(params["weights"])
            grads["bias"] = np.zeros_like(params["bias"])
            for b in range(len(batch)):
                _, gw, gb = conv2d_backward(x[b][None], params["weights"], d_z[b])
                grads["weights"] += gw
                grads["bias"] += gb
            for key in params:
                velocity[key] = momentum * velocity[key] - lr * grads[key]
                params[key] = params[key] + velocity[key]
        history["loss"].append(total_loss / n)
        history["accuracy"].append(correct / n)
        history["weights"].append(params["weights"].copy())
    return params, history
