"""nianbao.training"""
